import ECMPCore
import ECMPNetlink

/// The addresses on lo, as the controller reads and changes them. The
/// daemon passes `LoopbackAddresses` (rtnetlink); tests pass a fake.
/// Which addresses may change is decided before a call (`LoopbackPlan`).
public protocol LoopbackEdge {
    /// Every address of both families on lo, with its prefix length.
    func addresses() throws -> [PrefixedAddress]
    /// Adds the VIP as a host address (/32 or /128); one already there is left in place.
    func add(_ vip: IPAddress) throws
    /// Removes exactly the VIP's host address; false when it was not there.
    @discardableResult
    func remove(_ vip: IPAddress) throws -> Bool
}

extension LoopbackAddresses: LoopbackEdge {}
