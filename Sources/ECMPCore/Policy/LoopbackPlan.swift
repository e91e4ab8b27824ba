/// The address changes that make lo match the policy: add every owned VIP
/// the policy announces that is missing, remove every owned host address
/// (/32 or /128) it does not announce. Nothing outside `ownership.owned` is
/// ever in the plan, and an announced VIP already on lo is left as it is
/// (no delete and re-add, so neither ospfd/ospf6d nor the router sees a flap).
public struct LoopbackPlan: Sendable, Equatable {
    public var additions: [IPAddress]
    public var removals: [IPAddress]

    public init(ownership: AddressOwnership, announced: Set<IPAddress>, onLoopback: [PrefixedAddress]) {
        let present = Set(onLoopback.filter(\.isHost).map(\.address))
        additions = announced.intersection(ownership.owned).subtracting(present).sorted()
        removals = ownership.owned.intersection(present).subtracting(announced).sorted()
    }

    public var isEmpty: Bool { additions.isEmpty && removals.isEmpty }
}
