import ECMPCore
import Logging
import ServiceLifecycle

/// Keeps a service that is not on the traffic path (the status endpoint)
/// from taking the daemon down: if it fails (say, its port is taken), the
/// failure is logged and it is started again every `retry`, while the
/// reconcile loop goes on.
struct RetryingService<Wrapped: Service>: Service {
    let name: String
    let wrapped: Wrapped
    let retry: Duration
    let logger: Logger

    func run() async throws {
        await ServiceLoop.retrying(after: retry) { _ in
            try await wrapped.run()
        } failed: { error in
            logger.error("\(name) failed; retrying in \(DurationParser.format(retry))", metadata: ["error": "\(error)"])
        }
    }
}
