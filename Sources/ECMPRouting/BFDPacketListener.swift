import ECMPCore
import Foundation

/// Listens on BFD's single-hop control port (UDP 3784, RFC 5881) for a
/// moment and reports who sent BFD control packets: how a router without
/// bfdd learns that its directors run BFD. A session that is not up sends
/// at least once a second (RFC 5880 6.8.3; FRR's bfdd every 0.75-1 s), so
/// 1.2 s hears every such peer. When bfdd runs, the port is its own and the
/// bind fails: `nil`, nothing to learn here.
public enum BFDPacketListener {
    public static let port: UInt16 = 3784

    public static func senders(listening duration: Duration = .milliseconds(1200)) -> [IPv4Address]? {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var heard: [IPv4Address] = []
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        var buffer = [UInt8](repeating: 0, count: 128)
        while clock.now < deadline {
            let remaining = deadline - clock.now
            let milliseconds = Int32(
                remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&poll, 1, max(milliseconds, 1)) > 0 else { continue }
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, &buffer, buffer.count, 0, $0, &length)
                }
            }
            // A control packet: version 1 in the top three bits, 24 bytes or more.
            guard count >= 24, buffer[0] >> 5 == 1 else { continue }
            let sender = IPv4Address(UInt32(bigEndian: source.sin_addr.s_addr))
            if !heard.contains(sender) { heard.append(sender) }
        }
        return heard
    }
}
