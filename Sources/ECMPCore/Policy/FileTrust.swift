/// Whose files ecmpd obeys. Everything in `node.state_dir` (drain.json,
/// loopback.json, the locks, history.sqlite) steers what ecmpd does as
/// root or with CAP_NET_ADMIN, so a file counts only when ecmpd's own user
/// or root wrote it, and the directory holding it only when no one else can
/// add, replace or rename an entry in it.
public struct FileTrust: Sendable, Equatable {
    /// The effective uid ecmpd runs as.
    public var effectiveUser: UInt32

    public init(effectiveUser: UInt32) { self.effectiveUser = effectiveUser }

    /// Why a directory on the way to the state directory (or the state
    /// directory itself) lets another user in.
    public enum DirectoryProblem: Sendable, Equatable {
        /// Its owner can chmod it and replace what it holds.
        case ownedByAnotherUser
        /// Group or others may create, rename and delete entries in it.
        case writableByOthers
    }

    /// Root's files are trusted too: root can change anything anyway.
    public func trusts(owner: UInt32) -> Bool { owner == 0 || owner == effectiveUser }

    /// The problem with one directory, from its owner and mode bits (as
    /// `stat` gives them), or nil when only trusted users can change it.
    /// `isStateDirectory` is false for its parents: a parent with the
    /// sticky bit (as /tmp) lets others add entries but not rename or
    /// delete ours, so it is safe to live under; the state directory itself
    /// must be writable by its owner alone.
    public func problem(directoryOwner owner: UInt32, mode: UInt32, isStateDirectory: Bool) -> DirectoryProblem? {
        if !trusts(owner: owner) { return .ownedByAnotherUser }
        let groupOrOtherWrite: UInt32 = 0o022, sticky: UInt32 = 0o1000
        if mode & groupOrOtherWrite != 0, isStateDirectory || mode & sticky == 0 { return .writableByOthers }
        return nil
    }
}
