import Logging
import ServiceLifecycle

/// The poll loop: one controller cycle per interval until SIGTERM, then
/// `on_stop`.
struct ReconcileService: Service {
    let controller: Controller
    let interval: Duration
    let logger: Logger

    /// How often freed memory goes back to the kernel (`ProcessMemory`).
    static let trimInterval = Duration.seconds(60)

    func run() async throws {
        let clock = ContinuousClock()
        var nextTrim = clock.now
        await ServiceLoop.repeating(every: interval) {
            await controller.cycle()
            if clock.now >= nextTrim {
                ProcessMemory.returnFreedPages()
                nextTrim = clock.now + Self.trimInterval
            }
        }
        await controller.stop()
    }
}
