import Glibc

/// Size, modification time and inode of a file, to notice it changed
/// without reading it; nil fields when it does not exist.
public struct FileStamp: Equatable, Sendable {
    var size: Int64?
    var modifiedNanoseconds: Int64?
    var inode: UInt64?

    public init(path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            size = Int64(info.st_size)
            modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            inode = UInt64(info.st_ino)
        }
    }

    /// A stamp that only says "changed" when `version` does: for records
    /// kept in memory.
    public init(version: Int) {
        size = Int64(version)
    }
}
