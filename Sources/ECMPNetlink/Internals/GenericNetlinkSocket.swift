import CNetlink
import Glibc

/// One generic netlink socket bound to one family, used for request after
/// request. Every libnl socket and callback pointer of the generic netlink
/// side stays in this file.
///
/// The one subtle part is keeping replies in step with requests. libnl sets
/// NLM_F_ACK on everything it sends, so a request that gets a reply (GET_*)
/// is answered twice: the reply, then an ACK. Stopping at the reply would
/// leave the ACK queued and make every later reply one call late, so each
/// request reads until its terminator: the ACK or an error for a plain
/// request, NLMSG_DONE (or an error) for a dump, which gets no ACK.
final class GenericNetlinkSocket {
    enum Kind {
        /// A plain request: answered by at most one reply, then an ACK.
        case request
        /// A dump: a series of replies, then NLMSG_DONE.
        case dump
    }

    private var socket: OpaquePointer
    private let callbacks: OpaquePointer
    private let collector = ReplyCollector()
    private let familyID: Int32
    private let familyVersion: UInt8
    /// Set when an exchange broke off before its terminator: whatever is
    /// left queued belongs to it, so the next request starts on a new socket.
    private var isOutOfStep = false

    /// How long to wait for the kernel's answer before calling the socket
    /// broken. The kernel answers in microseconds; this bounds the damage
    /// of a bug, it is not a tuning knob.
    private static let replyTimeoutSeconds = 10

    /// Resolves `family` once, so requests never pay for a lookup.
    /// Throws ENOENT when the kernel does not know the family (for IPVS:
    /// the ip_vs module is not loaded).
    init(family: String, version: UInt8) throws(KernelErrno) {
        let socket = try Self.connectedSocket()
        let id = genl_ctrl_resolve(socket, family)
        guard id >= 0 else {
            nl_socket_free(socket)
            throw KernelErrno(libnlCode: id)
        }
        guard let callbacks = nl_cb_alloc(NL_CB_DEFAULT) else {
            nl_socket_free(socket)
            throw KernelErrno(ENOMEM)
        }
        self.socket = socket
        self.callbacks = callbacks
        self.familyID = id
        self.familyVersion = version
        installCallbacks()
    }

    deinit {
        nl_cb_put(callbacks)
        nl_socket_free(socket)
    }

    /// Sends `command` with the attributes `build` writes, hands each reply's
    /// top-level attributes (indexed up to `maxAttribute`) to `onReply`, and
    /// returns once the kernel has terminated the exchange. A kernel error
    /// is thrown with the kernel's errno.
    func exchange(
        _ command: Int, kind: Kind = .request, maxAttribute: Int = 0,
        build: (GenericNetlinkMessage) throws(KernelErrno) -> Void = { _ in },
        onReply: ((GenericNetlinkAttributes) -> Void)? = nil
    ) throws(KernelErrno) {
        if isOutOfStep { try reconnect() }
        guard let message = nlmsg_alloc() else { throw KernelErrno(ENOMEM) }
        defer { nlmsg_free(message) }
        let flags = kind == .dump ? NLM_F_DUMP : 0
        guard genlmsg_put(message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), familyID, 0, flags,
                          UInt8(command), familyVersion) != nil else { throw KernelErrno(EMSGSIZE) }
        try build(GenericNetlinkMessage(message))

        collector.begin(maxAttribute: maxAttribute, onReply: onReply)
        defer { collector.end() }
        do {
            try sendAndReceive(message, on: socket, callbacks: callbacks) { collector.isFinished }
        } catch {
            isOutOfStep = true
            throw error
        }
        if collector.kernelErrno != 0 { throw KernelErrno(collector.kernelErrno) }
        if collector.unreadableReplies > 0 { throw KernelErrno(EPROTO) }
    }

    private func reconnect() throws(KernelErrno) {
        let fresh = try Self.connectedSocket()
        nl_socket_free(socket)
        socket = fresh
        isOutOfStep = false
    }

    private static func connectedSocket() throws(KernelErrno) -> OpaquePointer {
        guard let socket = nl_socket_alloc() else { throw KernelErrno(ENOMEM) }
        let status = genl_connect(socket)
        guard status == 0 else {
            nl_socket_free(socket)
            throw KernelErrno(libnlCode: status)
        }
        var timeout = timeval(tv_sec: replyTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                       socklen_t(MemoryLayout<timeval>.size))
        return socket
    }

    /// The trampolines get the collector back from libnl's context pointer.
    /// Unretained is safe: the collector lives as long as this socket, and
    /// callbacks only run inside `nl_recvmsgs` calls made by `exchange`.
    private func installCallbacks() {
        let context = Unmanaged.passUnretained(collector).toOpaque()
        nl_cb_set(callbacks, NL_CB_VALID, NL_CB_CUSTOM, { message, context in
            ReplyCollector.from(context).deliver(nlmsg_hdr(message))
            return Int32(NL_OK.rawValue)
        }, context)
        nl_cb_set(callbacks, NL_CB_ACK, NL_CB_CUSTOM, { _, context in
            ReplyCollector.from(context).finish(kernelErrno: 0)
            return Int32(NL_STOP.rawValue)
        }, context)
        nl_cb_set(callbacks, NL_CB_FINISH, NL_CB_CUSTOM, { _, context in
            ReplyCollector.from(context).finish(kernelErrno: 0)
            return Int32(NL_STOP.rawValue)
        }, context)
        // Without this, libnl turns the kernel's errno into an NLE_* code and
        // ESRCH ("no such service") becomes indistinguishable from ENOENT.
        nl_cb_err(callbacks, NL_CB_CUSTOM, { _, error, context in
            let code = error?.pointee.error ?? -EPROTO
            ReplyCollector.from(context).finish(kernelErrno: code < 0 ? -code : code)
            return Int32(NL_STOP.rawValue)
        }, context)
    }
}

/// The state of one exchange, reached from libnl's callbacks.
private final class ReplyCollector {
    private(set) var isFinished = false
    private(set) var kernelErrno: Int32 = 0
    private(set) var unreadableReplies = 0
    private var maxAttribute = 0
    private var onReply: ((GenericNetlinkAttributes) -> Void)?

    static func from(_ context: UnsafeMutableRawPointer?) -> ReplyCollector {
        Unmanaged<ReplyCollector>.fromOpaque(context!).takeUnretainedValue()
    }

    func begin(maxAttribute: Int, onReply: ((GenericNetlinkAttributes) -> Void)?) {
        isFinished = false
        kernelErrno = 0
        unreadableReplies = 0
        self.maxAttribute = maxAttribute
        self.onReply = onReply
    }

    func end() { onReply = nil }

    func deliver(_ header: UnsafeMutablePointer<nlmsghdr>?) {
        guard let onReply else { return }
        guard let header, let attributes = GenericNetlinkAttributes(message: header, maxType: maxAttribute) else {
            unreadableReplies += 1
            return
        }
        onReply(attributes)
    }

    func finish(kernelErrno: Int32) {
        isFinished = true
        self.kernelErrno = kernelErrno
    }
}

/// Sends `message` and reads replies through `callbacks` until `isFinished`
/// says the kernel ended the exchange (ACK, error or end of dump). One
/// receive may end after the reply of a plain request, before its ACK, so
/// reading goes on until a terminator; `nl_recvmsgs_report` returns the
/// number of messages read (plain `nl_recvmsgs` returns 0 for any success,
/// which cannot tell "read a reply" from "read nothing"). On a throw the
/// caller's socket is out of step and must be replaced.
func sendAndReceive(
    _ message: OpaquePointer, on socket: OpaquePointer, callbacks: OpaquePointer, until isFinished: () -> Bool
) throws(KernelErrno) {
    let sent = nl_send_auto(socket, message)
    guard sent >= 0 else { throw KernelErrno(libnlCode: sent) }
    while !isFinished() {
        let status = nl_recvmsgs_report(socket, callbacks)
        if isFinished() { break }
        if status <= 0 {
            // Nothing read: SO_RCVTIMEO expired (NLE_AGAIN) or the socket closed.
            throw status == 0 || status == -NLE_AGAIN ? KernelErrno(ETIMEDOUT) : KernelErrno(libnlCode: status)
        }
    }
}
