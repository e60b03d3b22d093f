//! Counting the broker's network clients from the kernel's socket tables: rumqttd 0.20 does
//! not report its connections (its meters need an event type it does not export).

/// TCP state "established" in `/proc/net/tcp`.
const ESTABLISHED: &str = "01";

/// Established TCP connections whose local port is `port`, over IPv4 and IPv6.
pub(crate) fn established_on_port(port: u16) -> std::io::Result<usize> {
    let mut count = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        match std::fs::read_to_string(table) {
            Ok(text) => count += count_in_table(&text, port),
            // A kernel without IPv6 has no tcp6 table.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(count)
}

/// Counts the rows of one table (`sl local_address rem_address st …`, addresses as
/// `HEXADDR:HEXPORT`) that are established with local port `port`.
fn count_in_table(text: &str, port: u16) -> usize {
    text.lines()
        .skip(1)
        .filter(|row| {
            let mut fields = row.split_whitespace().skip(1);
            let local_port = fields
                .next()
                .and_then(|local| local.rsplit_once(':'))
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            let state = fields.nth(1);
            local_port == Some(port) && state == Some(ESTABLISHED)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_established_rows_on_the_port_count() {
        // Rows as the kernel writes them (port 1883 = 0x075B).
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:075B 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:D431 0100007F:075B 01 00000000:00000000 00:00000000 00000000     0        0 3 1
   3: 0100007F:075B 0100007F:D432 06 00000000:00000000 00:00000000 00000000     0        0 4 1
   4: 0100007F:075B 0100007F:D433 01 00000000:00000000 00:00000000 00000000     0        0 5 1
";
        // Not the listener (0A), not the client's own end (local port D431), not TIME_WAIT (06).
        assert_eq!(count_in_table(table, 1883), 2);
        assert_eq!(count_in_table(table, 1884), 0);
    }

    #[test]
    fn a_real_connection_is_counted() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let before = established_on_port(port).unwrap();
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _server = listener.accept().unwrap();
        assert_eq!(established_on_port(port).unwrap(), before + 1);
    }
}
