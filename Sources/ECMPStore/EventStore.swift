import ECMPCore
import Foundation
import GRDB

/// The controller's event log in SQLite, with one writer: this actor.
///
/// The store is never on the path that keeps traffic flowing. `record(_:)`
/// never throws: an event that cannot be written (file unwritable, locked by
/// another process, disk full, file corrupt) stays queued in memory, bounded
/// by `maxQueued`, and is written by a later `record(_:)` or `flush()` once
/// the database works again. Only when the queue is full are the oldest
/// queued events dropped, and `health.dropped` counts them. A corrupt file is
/// moved aside as `NAME.corrupt-TIMESTAMP` and a new one is built.
///
/// The database uses WAL so `ecmpd history` can read while the daemon writes,
/// and a short busy timeout so a reader or a stray `sqlite3` holding a lock
/// delays a write by at most `busyTimeout` before the event is queued instead.
///
/// The file and its -wal and -shm are 0600 whatever the umask, and a
/// symbolic link or another user's file at the path is refused, not adopted
/// (`DatabaseFile`): the store stays unwritable and says why.
public actor EventStore {
    public nonisolated let path: String
    public let retention: EventRetention
    /// Retention is enforced after this many written events (and on open).
    public let pruneInterval: Int
    public let maxQueued: Int
    public let busyTimeout: Duration
    private let now: @Sendable () -> Date

    private var database: DatabaseQueue?
    private var pending: [(sequence: UInt64, event: ControllerEvent)] = []
    private var nextSequence: UInt64 = 0
    private var isFlushing = false
    private var writesSincePrune = 0
    private var state = StoreHealth()

    public init(
        path: String,
        retention: EventRetention = .standard,
        pruneInterval: Int = 100,
        maxQueued: Int = 10_000,
        busyTimeout: Duration = .milliseconds(200),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        precondition(pruneInterval > 0 && maxQueued > 0, "pruneInterval and maxQueued must be positive")
        self.path = path
        self.retention = retention
        self.pruneInterval = pruneInterval
        self.maxQueued = maxQueued
        self.busyTimeout = busyTimeout
        self.now = now
    }

    public var health: StoreHealth {
        var health = state
        health.queued = pending.count
        return health
    }

    /// Queues the event and writes everything queued if the database allows.
    /// Never throws and never blocks longer than one write attempt.
    public func record(_ event: ControllerEvent) async {
        if pending.count >= maxQueued {
            pending.removeFirst()
            state.dropped += 1
        }
        pending.append((nextSequence, event))
        nextSequence += 1
        await flush()
    }

    /// Writes what is queued. The daemon calls this on a timer (see
    /// `retryQueued(every:)`) so queued events reach the disk after the
    /// problem is fixed even if nothing new happens.
    public func flush() async {
        // Actor methods can interleave at each `await`: one flush at a time,
        // and it loops until the queue is empty or a write fails.
        guard !isFlushing else { return }
        isFlushing = true
        defer { isFlushing = false }
        var repairedCorruption = false
        while let last = pending.last {
            let batch = pending.map(\.event)
            do {
                let database = try openIfNeeded()
                let prune = writesSincePrune + batch.count >= pruneInterval
                let retention = retention
                let now = now()
                try await database.write { db in
                    for event in batch { try EventTable.insert(event, into: db) }
                    if prune { try EventTable.prune(db, retention: retention, now: now) }
                }
                writesSincePrune = prune ? 0 : writesSincePrune + batch.count
                pending.removeAll { $0.sequence <= last.sequence }
                state.writable = true
            } catch {
                let error = EventStoreError(operation: .write, path: path, error: error)
                let movedAside = failed(error)
                // A corrupt file that was moved aside leaves a clean path: write
                // there now rather than after the next event or retry.
                if movedAside && !repairedCorruption {
                    repairedCorruption = true
                    continue
                }
                return
            }
        }
    }

    /// Retries queued events every `interval` until the task is cancelled.
    /// Meant to run as (part of) the daemon's store-writer service.
    public func retryQueued(every interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if !pending.isEmpty { await flush() }
        }
    }

    /// Recorded events matching `query`, oldest first, including those still
    /// queued in memory. Throws when the database cannot be read.
    public func events(_ query: EventQuery = EventQuery()) async throws -> [ControllerEvent] {
        do {
            let database = try openIfNeeded()
            let stored = try await database.read { db in try EventTable.fetch(query, from: db) }
            let queued = pending.map(\.event).filter(query.matches)
            let all = stored + queued
            if let limit = query.limit, all.count > limit { return Array(all.suffix(limit)) }
            return all
        } catch {
            let error = EventStoreError(operation: .read, path: path, error: error)
            failed(error)
            throw error
        }
    }

    /// Closes the database; the next write or read opens it again.
    public func close() {
        try? database?.close()
        database = nil
    }

    // MARK: - Opening and repairing

    private func openIfNeeded() throws -> DatabaseQueue {
        if let database { return database }
        var configuration = Configuration()
        configuration.label = "ecmpd.events"
        configuration.busyMode = .timeout(busyTimeout.timeInterval)
        configuration.prepareDatabase { db in
            // WAL lets `ecmpd history` read while the daemon writes; NORMAL
            // sync is durable across a process crash, which is what matters here.
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            try DatabaseFile.prepare(path, trust: FileTrust(effectiveUser: geteuid()))
            let database = try DatabaseQueue(path: path, configuration: configuration)
            try EventTable.migrator.migrate(database)
            try database.write { db in _ = try EventTable.prune(db, retention: retention, now: now()) }
            self.database = database
            return database
        } catch {
            throw EventStoreError(operation: .open, path: path, error: error)
        }
    }

    /// Records the failure and prepares the next attempt: a corrupt file is
    /// moved aside; any other failure drops the connection so the next attempt
    /// reopens the path (the file may have been replaced or its directory fixed).
    /// Returns whether a corrupt file was moved aside.
    @discardableResult
    private func failed(_ error: EventStoreError) -> Bool {
        state.writable = false
        state.failedAttempts += 1
        state.lastError = error.description
        if error.isCorruption {
            close()
            do {
                state.movedAside.append(try moveAsideCorruptFile())
                return true
            } catch {
                let moveError = EventStoreError(operation: .moveAside, path: path, error: error)
                state.lastError = "\(state.lastError ?? ""); \(moveError)"
            }
        } else if error.sqliteCode != ResultCode.SQLITE_BUSY.rawValue,
            error.sqliteCode != ResultCode.SQLITE_FULL.rawValue
        {
            close()
        }
        return false
    }

    /// Renames the database and its WAL and shared-memory files to
    /// `NAME.corrupt-TIMESTAMP` (SQLite then finds `NAME.corrupt-TIMESTAMP-wal`
    /// beside it, so the moved file can still be inspected with `sqlite3`).
    private func moveAsideCorruptFile() throws -> String {
        let stamp = Self.fileStamp(now())
        let target = "\(path).corrupt-\(stamp)"
        let files = FileManager.default
        try files.moveItem(atPath: path, toPath: target)
        for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
            try files.moveItem(atPath: path + suffix, toPath: target + suffix)
        }
        return target
    }

    /// `20261123T214500.123Z`: sortable, no characters a shell or path dislikes.
    static func fileStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: date)
    }
}
