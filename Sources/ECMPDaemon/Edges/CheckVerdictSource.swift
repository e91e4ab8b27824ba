import ECMPCore
import ECMPHealth

/// Managed mode's check verdicts, as the controller reads them. The daemon
/// passes its `HealthChecker`; tests pass verdicts they set.
public protocol CheckVerdictSource: Sendable {
    /// Moves whenever a verdict may have changed; read before `verdicts`.
    var verdictVersion: Int { get }
    var verdicts: [RealServerKey: CheckTracker.Verdict] { get }
    /// Every target's health, for `/status` and `/metrics`.
    func snapshot() -> [RealServerKey: RealServerHealth]
    /// Checks exactly these targets from now on (a config reload).
    func update(_ targets: [CheckTarget])
}

extension HealthChecker: CheckVerdictSource {}
