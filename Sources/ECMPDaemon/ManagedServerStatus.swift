import Foundation

/// One managed-mode real server as `/status` shows it: its check's verdict,
/// last error, latency and flap count, and what IPVS has for it now.
public struct ManagedServerStatus: Sendable, Equatable, Codable {
    /// `TCP 198.18.0.100:80`.
    public var service: String
    /// `198.18.1.2:80`: the IPVS destination (the check may use another port).
    public var server: String
    /// tcp, http, https or exec; "none" for a server without a check.
    public var check: String
    /// up, down or unknown (not checked yet).
    public var state: String
    public var lastError: String?
    public var latencyMilliseconds: Double?
    public var flaps: Int
    public var checks: Int
    /// The weight ecmpd last programmed (the kernel's, unless that write failed:
    /// the failure is then in the log and metrics); nil when not in the table.
    public var weight: Int?

    public init(
        service: String, server: String, check: String, state: String, lastError: String? = nil,
        latencyMilliseconds: Double? = nil, flaps: Int = 0, checks: Int = 0, weight: Int? = nil
    ) {
        self.service = service
        self.server = server
        self.check = check
        self.state = state
        self.lastError = lastError
        self.latencyMilliseconds = latencyMilliseconds
        self.flaps = flaps
        self.checks = checks
        self.weight = weight
    }
}
