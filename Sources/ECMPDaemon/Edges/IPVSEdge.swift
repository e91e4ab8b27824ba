import ECMPCore

/// The kernel's IPVS table, as the controller reads and programs it. The
/// daemon passes `KernelIPVS`; tests pass a fake.
public protocol IPVSEdge {
    /// Every service with its destinations.
    func table() throws -> IPVSTable
    /// The services only: one small dump, for managed mode's quick check.
    func services() throws -> [IPVSService]
    /// Makes the changes in order, stopping at the first that fails.
    func apply(_ plan: IPVSReconcilePlan) throws
}
