import ECMPCore
import ECMPStore
import Logging
import ServiceLifecycle
import Synchronization

/// Hands controller events to the SQLite store in order, without the
/// reconcile loop ever waiting for a write: `record` only enqueues.
/// The service drains what is queued before it stops, so the events of a
/// SIGTERM's withdrawals reach the file.
///
/// The store's health goes to `/status` and `/metrics` after every write
/// attempt, and a change between writable and not is logged once each way,
/// so a locked, full or corrupt database is seen without flooding the log.
public final class EventSink: Service, Sendable {
    private let stream: AsyncStream<ControllerEvent>
    private let continuation: AsyncStream<ControllerEvent>.Continuation
    private let store: EventStore
    private let status: ControllerStatus
    private let metrics: ControllerMetrics?
    private let logger: Logger
    /// The store health last published, to report changes once.
    private let reported = Mutex<StoreHealth?>(nil)

    public init(
        store: EventStore, status: ControllerStatus, metrics: ControllerMetrics? = nil,
        logger: Logger = Logger(label: "ecmpd.events")
    ) {
        (stream, continuation) = AsyncStream.makeStream(
            of: ControllerEvent.self, bufferingPolicy: .bufferingNewest(100_000))
        self.store = store
        self.status = status
        self.metrics = metrics
        self.logger = logger
    }

    public func record(_ event: ControllerEvent) {
        continuation.yield(event)
    }

    /// Ends the stream once everything queued is written.
    public func finish() { continuation.finish() }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.retryLoop(every: .seconds(5)) }
                for await event in stream {
                    await store.record(event)
                    await publishHealth()
                }
                await store.flush()
                await publishHealth()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    /// Retries events held in memory while the database was unwritable.
    func retryLoop(every interval: Duration) async {
        await ServiceLoop.repeating(every: interval) {
            await store.flush()
            await publishHealth()
        }
    }

    private func publishHealth() async {
        let health = await store.health
        let previous = reported.withLock { last in
            defer { last = health }
            return last
        }
        metrics?.recordStore(health, previous: previous)
        if previous?.writable ?? true, !health.writable {
            logger.error(
                "event store not writable; events are held in memory and written when it recovers; VIP decisions go on",
                metadata: [
                    "path": "\(store.path)", "error": "\(health.lastError ?? "unknown")", "queued": "\(health.queued)",
                ])
        } else if previous?.writable == false, health.writable {
            logger.notice(
                "event store writable again", metadata: ["path": "\(store.path)", "dropped": "\(health.dropped)"])
        }
        for file in health.movedAside.dropFirst(previous?.movedAside.count ?? 0) {
            logger.error(
                "event store was corrupt; moved it aside and started a new file",
                metadata: ["path": "\(store.path)", "moved_to": "\(file)"])
        }
        let detail =
            health.writable
            ? "writable; \(health.queued) queued, \(health.dropped) dropped"
            : "not writable: \(health.lastError ?? "unknown error"); \(health.queued) events held in memory, \(health.dropped) dropped"
        await status.setStore(ComponentHealth(healthy: health.writable, detail: detail))
    }
}
