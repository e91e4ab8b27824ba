import GRDB

/// A failure to open, write, read or repair the event database.
public struct EventStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Operation: String, Sendable, Hashable {
        case open, write, read
        case moveAside = "move aside"
    }

    public var operation: Operation
    public var path: String
    /// SQLite's primary result code (e.g. 5 busy, 13 full, 26 not a database), if SQLite reported one.
    public var sqliteCode: Int32?
    public var message: String

    public init(operation: Operation, path: String, sqliteCode: Int32? = nil, message: String) {
        self.operation = operation
        self.path = path
        self.sqliteCode = sqliteCode
        self.message = message
    }

    init(operation: Operation, path: String, error: any Error) {
        if var error = error as? EventStoreError {
            if error.path.isEmpty { error.path = path }
            self = error
        } else if let error = error as? DatabaseError {
            self.init(
                operation: operation, path: path, sqliteCode: error.resultCode.primaryResultCode.rawValue,
                message: error.message ?? "\(error.resultCode)")
        } else {
            self.init(operation: operation, path: path, message: "\(error)")
        }
    }

    /// SQLite says the file is damaged or is not a database at all: the only
    /// failures for which moving the file aside and starting over helps.
    var isCorruption: Bool {
        sqliteCode == ResultCode.SQLITE_CORRUPT.rawValue || sqliteCode == ResultCode.SQLITE_NOTADB.rawValue
    }

    public var description: String {
        let code = sqliteCode.map { " (SQLite code \($0))" } ?? ""
        return "could not \(operation.rawValue) the event database \(path): \(message)\(code)"
    }
}
