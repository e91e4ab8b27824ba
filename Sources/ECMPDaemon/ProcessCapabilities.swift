import Foundation

/// The Linux capabilities this process holds in effect, read from the
/// `CapEff:` line of /proc/self/status (a hex mask, bit N = capability N
/// of linux/capability.h). `ecmpd run` checks it at start, so a unit or a
/// `setpriv` that forgot CAP_NET_ADMIN fails at once with the name of the
/// capability, not later with EPERM on the first VIP it must withdraw.
public struct ProcessCapabilities: Sendable, Equatable {
    public var effective: UInt64

    /// linux/capability.h: addresses on lo, IPVS over generic netlink.
    public static let netAdmin = 12

    public init(effective: UInt64) { self.effective = effective }

    /// nil when the text has no readable `CapEff:` line.
    public init?(procStatus text: String) {
        for line in text.split(separator: "\n") where line.hasPrefix("CapEff:") {
            guard let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
            else { return nil }
            self.init(effective: mask)
            return
        }
        return nil
    }

    /// This process's set; nil where /proc is not mounted (then nothing is
    /// refused: the kernel's EPERM still names CAP_NET_ADMIN).
    public static func current() -> ProcessCapabilities? {
        (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)).flatMap {
            ProcessCapabilities(procStatus: $0)
        }
    }

    public func has(_ capability: Int) -> Bool { effective & (UInt64(1) << UInt64(capability)) != 0 }

    public var hasNetAdmin: Bool { has(Self.netAdmin) }
}
