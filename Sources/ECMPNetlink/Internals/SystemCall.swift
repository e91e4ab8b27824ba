import Glibc

/// The one way this module makes a system call, as swift-system's
/// `valueOrErrno` and swift-nio's syscall wrappers do it: the result is
/// checked where the call is made, and a failure is thrown with its errno
/// and what was attempted on what, so the `NetlinkError` built from it
/// names the call instead of blaming the request. libnl's own functions
/// report NLE_* codes instead and go through `KernelErrno(libnlCode:)`.
enum SystemCall {
    /// Returns what `call` returned, unless it is -1, libc's failure value:
    /// then throws its errno, saying "could not `operation` `object`".
    /// EINTR is not retried: no call made here blocks except `poll`, whose
    /// caller takes an interruption as a wake-up.
    @discardableResult
    static func check<Value: SignedInteger>(
        _ operation: String, _ object: String, _ call: () -> Value
    ) throws(KernelErrno) -> Value {
        let value = call()
        guard value == -1 else { return value }
        let code = errno
        throw KernelErrno(code, failedCall: "\(operation) \(object)")
    }
}
