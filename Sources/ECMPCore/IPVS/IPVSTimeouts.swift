/// IPVS connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`).
/// When setting them, 0 leaves that timeout as it is: the kernel only
/// changes the values it is given as non-zero.
public struct IPVSTimeouts: Hashable, Sendable, CustomStringConvertible {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32

    public init(tcp: UInt32 = 0, tcpFin: UInt32 = 0, udp: UInt32 = 0) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }

    public var description: String { "tcp \(tcp)s, tcpfin \(tcpFin)s, udp \(udp)s" }
}
