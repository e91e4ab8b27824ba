/// A small record the controller keeps across restarts (the VIPs it owns
/// on lo, an operator's drains). The daemon passes `StateFile`s under
/// `node.state_dir`; tests pass records in memory, kept across a restart.
public protocol RecordFile<Record> {
    associatedtype Record
    /// The record, or nil when there is none.
    func read() throws -> Record?
    func write(_ record: Record) throws
    /// Changes whenever the record may have: read every cycle, so the
    /// record itself is read only when another process changed it.
    func stamp() -> FileStamp
}

extension StateFile: RecordFile {
    public func stamp() -> FileStamp { FileStamp(path: path) }
}
