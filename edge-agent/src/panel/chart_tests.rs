#![allow(clippy::unwrap_used)]

use super::*;

const MIN: i64 = 60_000;
/// 2023-11-14 00:00 at UTC+2.
const MIDNIGHT: UnixMillis = 1_699_912_800_000;

fn tz() -> TimeZone {
    TimeZone::fixed(jiff::tz::offset(2))
}

/// Buckets of 5-minute slots from `MIDNIGHT`, at the given slot numbers.
fn buckets(slots: impl IntoIterator<Item = i64>) -> Vec<Bucket> {
    slots
        .into_iter()
        .map(|i| {
            let mean = 87.0 + (i as f64 / 10.0).sin() * 3.0;
            Bucket {
                start: MIDNIGHT + i * 5 * MIN,
                min: mean - 1.0,
                mean,
                max: mean + 1.0,
                count: 60,
            }
        })
        .collect()
}

fn day_chart<'a>(buckets: &'a [Bucket], tz: &'a TimeZone) -> Chart<'a> {
    Chart {
        id: "chart-humidity-24h",
        label: "Humidity, last 24 hours",
        unit: "%RH",
        from: MIDNIGHT,
        to: MIDNIGHT + DAY_MS,
        buckets,
        target: None,
        tz,
    }
}

/// The `d` of the mean line.
fn mean_path(svg: &str) -> &str {
    let at = svg.find("class=\"chart-mean\"").unwrap();
    let d = at + svg[at..].find(" d=\"").unwrap() + 4;
    &svg[d..d + svg[d..].find('"').unwrap()]
}

/// Every element is closed, in order (start tags, end tags, self-closing tags).
fn assert_balanced(svg: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        let end = at + rest[at..].find('>').unwrap();
        let tag = &rest[at + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "in {svg}");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed {open:?}");
}

#[test]
fn y_ticks_are_three_to_five_round_numbers() {
    let t = nice_ticks(83.2, 91.7);
    assert_eq!((t.values, t.decimals), (vec![84.0, 86.0, 88.0, 90.0], 0));
    let t = nice_ticks(-12.3, -2.1);
    assert_eq!(t.values, [-12.0, -10.0, -8.0, -6.0, -4.0]);
    let t = nice_ticks(0.21, 0.34);
    assert_eq!((t.values, t.decimals), (vec![0.2, 0.25, 0.3, 0.35], 2));
    let t = nice_ticks(-3.0, 4.0);
    assert_eq!(t.values, [-2.0, 0.0, 2.0, 4.0]);
    for (lo, hi) in [
        (0.0, 1.0),
        (1.0, 3.0),
        (412.0, 1390.0),
        (0.004, 0.0071),
        (-40.0, 85.0),
    ] {
        let t = nice_ticks(lo, hi);
        assert!((3..=5).contains(&t.values.len()), "{lo}..{hi}: {t:?}");
    }
    // Any range: 3 to 5 ticks, evenly spaced, covering at least part of the range.
    for i in 1..2000 {
        let lo = (i as f64 * 7.31).sin() * 10f64.powi(i % 7 - 2);
        let hi = lo + (i as f64 * 0.37).cos().abs() * 10f64.powi(i % 5 - 2) + 1e-6;
        let t = nice_ticks(lo, hi);
        assert!((3..=5).contains(&t.values.len()), "{lo}..{hi}: {t:?}");
        let step = t.values[1] - t.values[0];
        assert!(t
            .values
            .windows(2)
            .all(|w| ((w[1] - w[0]) / step - 1.0).abs() < 1e-6));
        assert!(
            t.values[0] <= hi && *t.values.last().unwrap() >= lo,
            "{lo}..{hi}: {t:?}"
        );
    }
}

#[test]
fn a_flat_series_gets_ticks_around_its_value() {
    let t = nice_ticks(90.0, 90.0);
    assert_eq!(t.values, [89.0, 89.5, 90.0, 90.5, 91.0]);
    assert_eq!(t.decimals, 1);
    assert_eq!(nice_ticks(0.0, 0.0).values, [-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert_eq!(nice_ticks(-850.0, -850.0).values.len(), 5);
    assert!(!nice_ticks(-1e308, 1e308).values.is_empty(), "no overflow");
    let svg = render(&day_chart(&buckets([3])[..], &tz()));
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

#[test]
fn the_line_breaks_where_slots_are_missing() {
    let tz = tz();
    let one = buckets(0..288);
    assert_eq!(
        mean_path(&render(&day_chart(&one, &tz)))
            .matches('M')
            .count(),
        1
    );
    let gap = buckets((0..100).chain(130..288));
    let svg = render(&day_chart(&gap, &tz));
    assert_eq!(mean_path(&svg).matches('M').count(), 2, "{svg}");
    // A sensor read every 10 minutes fills every other 5-minute slot: no gaps.
    let sparse = buckets((0..144).map(|i| i * 2));
    assert_eq!(
        mean_path(&render(&day_chart(&sparse, &tz)))
            .matches('M')
            .count(),
        1
    );
    // Isolated slots are dots: a zero-length line with round caps.
    let dots = buckets([10, 50, 200]);
    let d = mean_path(&render(&day_chart(&dots, &tz))).to_owned();
    assert_eq!(d.matches('M').count(), 3, "{d}");
    assert_eq!(d.matches("l0 0").count(), 3, "{d}");
}

#[test]
fn paths_step_in_exact_tenths() {
    let mut p = Path::default();
    p.move_to(1.04, 2.0);
    p.line_to(2.06, 1.94);
    p.line_to(2.06, 3.0);
    p.close();
    assert_eq!(p.d, "M1 2l1.1-0.1 0 1.1z");
    assert_eq!(
        (num(-0.04), num(12.0), num(-3.25)),
        ("0".into(), "12".into(), "-3.3".into())
    );
}

#[test]
fn the_target_band_is_shaded_when_there_is_one() {
    let tz = tz();
    let data = buckets(0..288);
    let mut chart = day_chart(&data, &tz);
    assert!(!render(&chart).contains("chart-band"));
    chart.target = Some((85.0, 90.0));
    let svg = render(&chart);
    assert!(svg.contains("<rect class=\"chart-band\""), "{svg}");
    assert!(svg.contains("Target 85.0–90.0 %RH."), "{svg}");
    // A band far from the data widens the y axis to show both.
    chart.target = Some((60.0, 65.0));
    assert!(render(&chart).contains(">60</text>"));
}

#[test]
fn time_labels_are_local_hours_for_a_day_and_days_for_a_week() {
    let tz = tz();
    let labels =
        |axis: &TimeAxis| -> Vec<String> { axis.labels.iter().map(|(_, l)| l.clone()).collect() };
    let day = time_axis(MIDNIGHT + 30 * MIN, MIDNIGHT + DAY_MS + 30 * MIN, &tz);
    assert_eq!(labels(&day), ["06:00", "12:00", "18:00", "00:00"]);
    assert_eq!(day.lines[0], MIDNIGHT + 6 * 60 * MIN);
    // A week from Tuesday 00:30: lines at the 7 local midnights, every day named in its
    // middle (the first one shows 23.5 h, the last one 30 min: not named).
    let week = time_axis(MIDNIGHT + 30 * MIN, MIDNIGHT + 7 * DAY_MS + 30 * MIN, &tz);
    assert_eq!(
        labels(&week),
        ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon"]
    );
    assert_eq!(week.lines.len(), 7);
    assert_eq!(week.lines[0], MIDNIGHT + DAY_MS, "at local midnight");
    assert_eq!(week.labels[1].0, MIDNIGHT + DAY_MS + DAY_MS / 2, "at noon");
    let three = time_axis(MIDNIGHT, MIDNIGHT + 3 * DAY_MS, &tz);
    assert_eq!(labels(&three), ["Tue 14", "Wed 15", "Thu 16"]);
    let month = time_axis(MIDNIGHT, MIDNIGHT + 30 * DAY_MS, &tz);
    assert_eq!(labels(&month)[..2], ["14 Nov", "19 Nov"]);
    assert!(month.lines.len() <= 7);
    let data = buckets((0..336).map(|i| i * 6));
    let mut chart = day_chart(&data, &tz);
    chart.to = MIDNIGHT + 7 * DAY_MS;
    let svg = render(&chart);
    assert!(
        svg.contains(">Thu</text>") && !svg.contains(">06:00<"),
        "{svg}"
    );
}

#[test]
fn the_description_sums_up_the_range() {
    let tz = tz();
    let data = [
        Bucket {
            start: MIDNIGHT,
            min: 80.0,
            mean: 84.0,
            max: 86.0,
            count: 3,
        },
        Bucket {
            start: MIDNIGHT + 14 * 60 * MIN + 35 * MIN,
            min: 90.0,
            mean: 92.0,
            max: 95.5,
            count: 1,
        },
    ];
    let svg = render(&day_chart(&data, &tz));
    assert!(
        svg.contains(
            "<desc id=\"chart-humidity-24h-desc\">Min 80.0 %RH, mean 86.0 %RH, max 95.5 %RH; \
             last 92.0 %RH (14:35).</desc>"
        ),
        "{svg}"
    );
    assert!(svg.contains("aria-labelledby=\"chart-humidity-24h-title chart-humidity-24h-desc\""));
    assert!(svg.contains("<title id=\"chart-humidity-24h-title\">Humidity, last 24 hours</title>"));
}

#[test]
fn text_is_escaped() {
    let tz = tz();
    let data = buckets(0..10);
    let mut chart = day_chart(&data, &tz);
    chart.id = "a\"b";
    chart.label = "<script>alert(1)</script> & co";
    chart.unit = "<b>°C</b>";
    let svg = render(&chart);
    assert!(!svg.contains("<script") && !svg.contains("<b>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert!(svg.contains("id=\"a&quot;b-title\""));
    assert_balanced(&svg);
}

#[test]
fn no_buckets_is_a_sentence_not_a_drawing() {
    let tz = tz();
    assert_eq!(
        render(&day_chart(&[], &tz)),
        "<p class=\"chart-empty\">No readings in this period.</p>"
    );
}

#[test]
fn a_day_of_slots_is_small_well_formed_svg_without_style_or_script() {
    let tz = tz();
    let data = buckets(0..288);
    let mut chart = day_chart(&data, &tz);
    chart.target = Some((85.0, 90.0));
    let svg = render(&chart);
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    assert!(svg.contains("viewBox=\"0 0 360 180\" width=\"100%\" role=\"img\""));
    assert!(!svg.contains("style=") && !svg.contains("<script") && !svg.contains("href"));
    assert_balanced(&svg);
    assert!(svg.len() < 10_000, "{} bytes", svg.len());
}
