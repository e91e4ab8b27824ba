import ECMPCore
import ECMPStore
import Logging
import ServiceLifecycle

/// Hands controller events to the SQLite store in order, without the
/// reconcile loop ever waiting for a write: `record` only enqueues.
/// The service drains what is queued before it stops, so the events of a
/// SIGTERM's withdrawals reach the file.
public final class EventSink: Service, Sendable {
    private let stream: AsyncStream<ControllerEvent>
    private let continuation: AsyncStream<ControllerEvent>.Continuation
    private let store: EventStore
    private let status: ControllerStatus

    public init(store: EventStore, status: ControllerStatus) {
        (stream, continuation) = AsyncStream.makeStream(of: ControllerEvent.self, bufferingPolicy: .bufferingNewest(100_000))
        self.store = store
        self.status = status
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
                var written = 0
                for await event in stream {
                    await store.record(event)
                    written += 1
                    if written % 16 == 0 { await publishHealth() }
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
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await store.flush()
            await publishHealth()
        }
    }

    private func publishHealth() async {
        let health = await store.health
        let detail = health.writable
            ? "writable; \(health.queued) queued, \(health.dropped) dropped"
            : "not writable: \(health.lastError ?? "unknown error"); \(health.queued) events held in memory, \(health.dropped) dropped"
        await status.setStore(ComponentHealth(healthy: health.writable, detail: detail))
    }
}
