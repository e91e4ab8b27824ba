import ECMPCore
import ECMPNetlink
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// rtnetlink link, address and route events, debounced into re-renders.
/// The watcher blocks, so it gets a thread of its own. A watcher that
/// fails is replaced after a second, and a full re-render follows: events
/// missed meanwhile are repaired by reading everything again.
///
/// When the kernel drops events (the socket's receive buffer overflowed,
/// ENOBUFS: a burst while ecmpd was descheduled or stopped), what changed
/// is unknown: the overflow is counted, logged at warning and recorded,
/// and a full resync follows at once, without the debounce: the network
/// re-read and the routing configs re-rendered, and lo re-read and made to
/// match the current decisions.
struct NetworkWatchService: Service {
    let routing: RoutingCoordinator
    let controller: Controller
    let events: EventSink
    let metrics: ControllerMetrics
    let logger: Logger

    /// What the watch thread leaves for the loop. `overflowed` is set by
    /// the thread and taken by the loop: a later plain change must not hide
    /// an overflow in the one-element stream.
    private struct ThreadReport {
        var overflowed = false
        var failure: (any Error)?
    }

    func run() async throws {
        await ServiceLoop.retrying(after: .seconds(1)) { attempt in
            if attempt > 0 {
                let inputs = await controller.routingInputs
                await routing.request(inputs, reason: "network watch restarted")
            }
            try await watch()
        } failed: { error in
            logger.error(
                "rtnetlink watch failed; resubscribing and re-reading the network",
                metadata: ["error": "\(error)"])
        }
    }

    private func watch() async throws {
        let watcher = try RouteWatcher(includingAddresses: true)
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let report = NIOLockedValueBox(ThreadReport())
        let metrics = metrics
        let thread = Thread {
            while true {
                do {
                    switch try watcher.wait(timeout: .seconds(3600)) {
                    case .changed: continuation.yield()
                    case .overflowed:
                        metrics.recordNetlinkEventOverflow()
                        report.withLockedValue { $0.overflowed = true }
                        continuation.yield()
                    case .timedOut: continue
                    case .interrupted:
                        continuation.finish()
                        return
                    }
                } catch {
                    report.withLockedValue { $0.failure = error }
                    continuation.finish()
                    return
                }
            }
        }
        thread.name = "ecmpd rtnetlink watch"
        thread.start()
        await withGracefulShutdownHandler {
            for await _ in changes {
                let inputs = await controller.routingInputs
                let overflowed = report.withLockedValue { report in
                    defer { report.overflowed = false }
                    return report.overflowed
                }
                if overflowed {
                    await resync(inputs)
                } else {
                    let debounce = inputs.loaded.config.controller.networkDebounce
                    await routing.request(inputs, reason: "network change", after: debounce)
                }
            }
        } onGracefulShutdown: {
            watcher.interrupt()
        }
        if let error = report.withLockedValue({ $0.failure }) { throw error }
    }

    /// Events were lost: re-read everything now rather than trust that the
    /// events that did arrive said all that changed.
    private func resync(_ inputs: RoutingCoordinator.Inputs) async {
        let reason =
            "the kernel dropped rtnetlink events (receive buffer full, ENOBUFS); full resync: "
            + "network re-read, routing configs re-rendered, lo reconciled"
        logger.warning("rtnetlink events lost; re-reading the network and lo", metadata: ["reason": "\(reason)"])
        events.record(ControllerEvent(kind: .networkResync, reason: reason))
        await routing.request(inputs, reason: "rtnetlink overflow resync")
        await controller.repairLoopback()
    }
}
