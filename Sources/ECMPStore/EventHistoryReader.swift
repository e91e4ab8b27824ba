import ECMPCore
import GRDB

/// Reads the event database without ever writing it: what `ecmpd history`
/// uses, so it can run beside the daemon and on a copied or damaged file.
public struct EventHistoryReader: Sendable {
    public let path: String
    private let database: DatabaseQueue

    /// Opens `path` read-only. Throws `EventStoreError` when the file is
    /// missing, unreadable, a symbolic link, or not an ecmpd event database.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(2)
        do {
            try DatabaseFile.refuseSymbolicLink(path)
            database = try DatabaseQueue(path: path, configuration: configuration)
            let hasTable = try database.read { db in try db.tableExists("event") }
            guard hasTable else {
                throw EventStoreError(
                    operation: .read, path: path, message: "it has no event table (not an ecmpd event database?)")
            }
        } catch {
            throw EventStoreError(operation: .read, path: path, error: error)
        }
    }

    /// Events matching `query`, oldest first.
    public func events(_ query: EventQuery = EventQuery()) throws -> [ControllerEvent] {
        do {
            return try database.read { db in try EventTable.fetch(query, from: db) }
        } catch {
            throw EventStoreError(operation: .read, path: path, error: error)
        }
    }
}
