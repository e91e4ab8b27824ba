@testable import ECMPDaemon
import Foundation
import Logging

/// A status actor and metrics registry with three VIPs published, one of
/// them having flapped, as a reconciler would leave them.
struct StatusFixture {
    let status: ControllerStatus
    let metrics: ControllerMetrics
    static let changedAt = Date(timeIntervalSince1970: 1_790_000_000)

    static func make() async -> StatusFixture {
        let metrics = ControllerMetrics()
        let status = ControllerStatus(metrics: metrics)
        await status.publish([
            VIPStatus(vip: "192.0.2.10", name: "web", state: .announced, usable: 3, total: 3, lastChange: changedAt),
            VIPStatus(
                vip: "192.0.2.2", name: "dns", state: .withdrawn,
                reason: "0 of 2 backends usable, below minimum 1, for 3 observations", usable: 0, total: 2,
                lastChange: changedAt),
            VIPStatus(
                vip: "2001:db8::1", state: .held, reason: "no other director announces it", usable: 0, total: 1,
                lastChange: changedAt),
        ])
        metrics.recordTransition(vip: "192.0.2.2", direction: .announce)
        metrics.recordTransition(vip: "192.0.2.2", direction: .withdraw)
        metrics.recordReconcile(duration: .milliseconds(3))
        metrics.recordReconcile(duration: .milliseconds(700))
        metrics.recordNetlinkError(operation: "add-address")
        return StatusFixture(status: status, metrics: metrics)
    }

    func server(
        host: String = "127.0.0.1", port: Int = 0, limits: StatusServer.Limits = .init(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> StatusServer {
        StatusServer(
            host: host, port: port, status: status, metrics: metrics, limits: limits,
            logger: Logger(label: "ecmpd.status.test"), onServerRunning: onServerRunning)
    }
}
