import CNetlink

/// Writes attributes into an outgoing generic netlink message. libnl's
/// NLA_PUT_* macros do not import into Swift; these call the functions
/// behind them and turn a full message into EMSGSIZE.
struct GenericNetlinkMessage {
    private let message: OpaquePointer

    init(_ message: OpaquePointer) { self.message = message }

    func put(_ type: Int, u8 value: UInt8) throws(KernelErrno) {
        try check(nla_put_u8(message, Int32(type), value))
    }

    func put(_ type: Int, u16 value: UInt16) throws(KernelErrno) {
        try check(nla_put_u16(message, Int32(type), value))
    }

    func put(_ type: Int, u32 value: UInt32) throws(KernelErrno) {
        try check(nla_put_u32(message, Int32(type), value))
    }

    func put(_ type: Int, bytes: [UInt8]) throws(KernelErrno) {
        let status = bytes.withUnsafeBytes { nla_put(message, Int32(type), Int32($0.count), $0.baseAddress) }
        try check(status)
    }

    /// A NUL-terminated string, as the kernel's NLA_NUL_STRING policy wants.
    func put(_ type: Int, string: String) throws(KernelErrno) {
        try check(nla_put_string(message, Int32(type), string))
    }

    /// Writes a nested attribute whose content `body` puts.
    func nest(_ type: Int, _ body: (GenericNetlinkMessage) throws(KernelErrno) -> Void) throws(KernelErrno) {
        guard let start = nla_nest_start(message, Int32(type)) else { throw KernelErrno(EMSGSIZE) }
        try body(self)
        try check(nla_nest_end(message, start))
    }

    private func check(_ status: Int32) throws(KernelErrno) {
        if status < 0 { throw KernelErrno(EMSGSIZE) }
    }
}
