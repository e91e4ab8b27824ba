import ECMPCore
import Logging
import ServiceLifecycle

/// The two loops the daemon's services run, written once: a fixed-rate
/// repetition and a retry after failure. Both stop when graceful shutdown
/// starts or the task is cancelled, and their waits end early then, so a
/// SIGTERM never waits out an interval. Every wait is on the monotonic clock.
enum ServiceLoop {
    /// Runs `body` every `interval` until shutdown. Fixed rate: each run is
    /// due one interval after the previous one was due, and one that
    /// overran starts the next at once, not a burst to catch up.
    static func repeating(every interval: Duration, _ body: () async -> Void) async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await body()
            next += interval
            let now = clock.now
            if next < now { next = now }
            await sleep(until: next, clock: clock)
        }
    }

    /// Runs `attempt` until it returns or shutdown starts. After a failure
    /// `failed` reports it and the next attempt starts `delay` later; the
    /// attempt is told its number (0 first), so a retry can first repair
    /// what the failure may have missed.
    static func retrying(
        after delay: Duration, _ attempt: (_ number: Int) async throws -> Void, failed: (any Error) -> Void
    ) async {
        var number = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await attempt(number)
                return
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                failed(error)
                let clock = ContinuousClock()
                await sleep(until: clock.now + delay, clock: clock)
                number += 1
            }
        }
    }

    /// Sleeps until `deadline`, or returns early when shutdown starts.
    private static func sleep(until deadline: ContinuousClock.Instant, clock: ContinuousClock) async {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(until: deadline, clock: clock)
        }
    }
}
