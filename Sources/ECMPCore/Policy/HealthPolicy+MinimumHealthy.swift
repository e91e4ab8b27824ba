/// The one home of the `min_healthy` rule. Observe mode's count from the
/// kernel's table (`BackendCounter`), managed mode's count from check
/// verdicts (the same `aggregate`), each observation's verdict (`VIPPolicy`)
/// and the last-announcer guard (`VIPPolicy.wouldWithdraw`) all ask here.
extension HealthPolicy {
    /// `min_healthy` as a number of backends for `total` configured ones: a
    /// count as written, a percentage rounded up, and never fewer than one
    /// (no backends is never enough: the router would send traffic to a
    /// director with nothing behind it).
    public func requiredUsable(ofTotal total: Int) -> Int {
        max(1, minimumHealthy.required(ofTotal: total))
    }

    /// Whether `usable` of `total` backends meet `min_healthy`.
    public func meetsMinimum(usable: Int, total: Int) -> Bool {
        usable >= requiredUsable(ofTotal: total)
    }
}
