/// IPVS virtual service flags (`IP_VS_SVC_F_*` in include/uapi/linux/ip_vs.h).
///
/// The scheduler flags mean what the scheduler makes of them: `sh` and `mh`
/// read sched1 as "fallback" and sched2 as "hash the port too". The uapi
/// header names only the `sh` aliases; `mh` uses the same bits
/// (net/netfilter/ipvs/ip_vs_mh.c).
public struct IPVSServiceFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let persistent = IPVSServiceFlags(rawValue: 0x0001)
    /// Set by the kernel on every service in its hash table; it reads back
    /// on every dumped service and must never count as a difference.
    public static let hashed = IPVSServiceFlags(rawValue: 0x0002)
    /// One-packet scheduling (`ipvsadm -o`), for UDP.
    public static let onePacket = IPVSServiceFlags(rawValue: 0x0004)
    public static let sched1 = IPVSServiceFlags(rawValue: 0x0008)
    public static let sched2 = IPVSServiceFlags(rawValue: 0x0010)
    public static let sched3 = IPVSServiceFlags(rawValue: 0x0020)

    public static let mhFallback = sched1
    public static let mhPort = sched2
    public static let shFallback = sched1
    public static let shPort = sched2

    /// The flags user space sets; everything but `hashed`.
    public static let configurable: IPVSServiceFlags = [.persistent, .onePacket, .sched1, .sched2, .sched3]

    /// The flags as configured, without the kernel's bookkeeping bit.
    public var configured: IPVSServiceFlags { intersection(.configurable) }

    public var description: String {
        let names: [(IPVSServiceFlags, String)] = [
            (.persistent, "persistent"), (.hashed, "hashed"), (.onePacket, "one-packet"),
            (.sched1, "sched1"), (.sched2, "sched2"), (.sched3, "sched3"),
        ]
        let known = names.filter { contains($0.0) }.map(\.1)
        let unknown = subtracting(IPVSServiceFlags(rawValue: 0x3f)).rawValue
        let all = known + (unknown == 0 ? [] : ["0x" + String(unknown, radix: 16)])
        return all.isEmpty ? "none" : all.joined(separator: ",")
    }
}
