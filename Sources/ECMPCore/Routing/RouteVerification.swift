/// The router-side check of one VIP (`ecmpd verify`): the kernel's nexthops
/// for the VIP's host route (/32 or /128), FRR's view of the same prefix, the operator's
/// expectation, and every problem found among them.
public struct RouteVerification: Sendable, Equatable {
    /// What FRR said about the prefix, or why it was not asked.
    public enum FRRView: Sendable, Equatable {
        /// Not consulted: vtysh is missing, no daemon answered, or the
        /// operator turned it off. Not a problem: a router may run another
        /// routing daemon, and the kernel is what forwards packets.
        case unavailable(reason: String)
        /// FRR's entries for exactly the prefix (empty: FRR has no route).
        case entries([FRRRoute])
    }

    /// Whether the kernel forwards over the nexthops zebra installed.
    public enum Agreement: Sendable, Equatable {
        case agree
        /// `kernelOnly`: in the kernel, not installed by FRR; `frrOnly`:
        /// installed by FRR (`fib: true`), missing from the kernel.
        case disagree(kernelOnly: [RouteNexthops.Nexthop], frrOnly: [RouteNexthops.Nexthop])
        case notChecked(reason: String)
    }

    public var prefix: PrefixedAddress
    /// The kernel's nexthops for exactly `prefix`; nil when it has no such route.
    public var kernel: RouteNexthops?
    public var frr: FRRView
    public var expectation: NexthopExpectation

    public init(prefix: PrefixedAddress, kernel: RouteNexthops?, frr: FRRView, expectation: NexthopExpectation) {
        self.prefix = prefix
        self.kernel = kernel
        self.frr = frr
        self.expectation = expectation
    }

    public init(prefix: IPv4Network, kernel: RouteNexthops?, frr: FRRView, expectation: NexthopExpectation) {
        self.init(prefix: PrefixedAddress(prefix), kernel: kernel, frr: frr, expectation: expectation)
    }

    /// The entry FRR installed, when FRR was asked and has one.
    public var frrInstalled: FRRRoute? {
        guard case .entries(let entries) = frr else { return nil }
        return FRRRoute.installed(in: entries)
    }

    /// FRR's FIB view: the installed entry's `fib` nexthops, nothing when no
    /// entry is installed.
    public var frrNexthops: RouteNexthops? {
        guard case .entries = frr else { return nil }
        return frrInstalled?.fibNexthops ?? .empty
    }

    public var agreement: Agreement {
        switch frr {
        case .unavailable(let reason):
            return .notChecked(reason: reason)
        case .entries:
            let (frrOnly, kernelOnly) = (kernel ?? .empty).difference(from: frrNexthops ?? .empty)
            return frrOnly.isEmpty && kernelOnly.isEmpty ? .agree : .disagree(kernelOnly: kernelOnly, frrOnly: frrOnly)
        }
    }

    /// The expectation's verdict on the kernel's nexthops; nil when met.
    public var expectationMismatch: String? {
        expectation.mismatch(in: kernel ?? .empty)
    }

    /// Every problem as a sentence an operator can act on; empty when the
    /// route matches the expectation and kernel and FRR agree.
    public var problems: [String] {
        var problems: [String] = []
        if kernel == nil {
            if expectation != .count(0) {
                problems.append("the kernel has no route to \(prefix); expected \(expectation)")
            }
        } else if let mismatch = expectationMismatch {
            problems.append(mismatch)
        }
        if case .disagree(let kernelOnly, let frrOnly) = agreement {
            var parts: [String] = []
            if !frrOnly.isEmpty {
                parts.append(
                    "FRR installed \(RouteNexthops(frrOnly)) but the kernel lacks \(frrOnly.count == 1 ? "it" : "them")"
                )
            }
            if !kernelOnly.isEmpty {
                let listed =
                    frrInstalled.map { "which FRR's installed \($0.protocolName) route does not list" }
                    ?? "but FRR installed no route"
                parts.append("the kernel has \(RouteNexthops(kernelOnly)), \(listed)")
            }
            problems.append("kernel and FRR disagree: " + parts.joined(separator: "; "))
        }
        return problems
    }

    public var isOK: Bool { problems.isEmpty }
}
