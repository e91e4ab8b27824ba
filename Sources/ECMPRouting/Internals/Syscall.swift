import Foundation

/// The one place results of file system calls are checked: -1 becomes a
/// `RoutingFileError.fileSystem` naming the operation, the path and
/// errno, so no call in the install path is dropped unchecked.
enum Syscall {
    @discardableResult
    static func check<Result: BinaryInteger>(
        _ operation: @autoclosure () -> String, _ path: @autoclosure () -> String, _ result: Result
    ) throws -> Result {
        guard result == -1 else { return result }
        let code = errno
        throw RoutingFileError.fileSystem(operation: operation(), path: path(), errno: code)
    }
}
