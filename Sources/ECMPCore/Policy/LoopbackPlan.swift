/// The address changes that make lo match the policy: add every owned VIP
/// the policy announces that is missing, remove every owned /32 it does not
/// announce. Nothing outside `ownership.owned` is ever in the plan, and an
/// announced VIP already on lo is left as it is (no delete and re-add, so
/// neither ospfd nor the router sees a flap).
public struct LoopbackPlan: Sendable, Equatable {
    public var additions: [IPv4Address]
    public var removals: [IPv4Address]

    public init(ownership: AddressOwnership, announced: Set<IPv4Address>, onLoopback: [InterfaceAddress]) {
        let present = Set(onLoopback.filter { $0.network.prefixLength == 32 }.map(\.address))
        additions = announced.intersection(ownership.owned).subtracting(present).sorted()
        removals = ownership.owned.intersection(present).subtracting(announced).sorted()
    }

    public var isEmpty: Bool { additions.isEmpty && removals.isEmpty }
}
