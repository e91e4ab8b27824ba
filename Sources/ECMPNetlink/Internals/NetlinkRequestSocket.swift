import CNetlink
import Glibc

/// A libnl socket for request/reply exchanges with the kernel, whatever the
/// netlink protocol: `GenericNetlinkSocket` (IPVS) and `RouteQuerySocket`
/// (route lookups, nexthop objects) each build their requests and read
/// their replies, and share this one exchange: the callback trampolines,
/// the reply collector, the receive timeout, and the replacement of a
/// socket an exchange left out of step.
///
/// Two libnl behaviours shape it:
/// - libnl sets NLM_F_ACK on everything it sends, so a request that gets a
///   reply (a GET) is answered twice: the reply, then an ACK. Stopping at
///   the reply would leave the ACK queued and make every later reply one
///   call late, so each exchange reads until its terminator: the ACK or an
///   error for a plain request, NLMSG_DONE (or an error) for a dump, which
///   gets no ACK.
/// - libnl turns the kernel's errno into an NLE_* code that folds ESRCH
///   ("no such service") and ENOENT into one; an error callback keeps the
///   kernel's own errno.
final class NetlinkRequestSocket {
    private var socket: OpaquePointer
    private let netlinkProtocol: Int32
    private let callbacks: OpaquePointer
    private let collector = ReplyCollector()
    /// Set when an exchange broke off before its terminator: whatever is
    /// left queued belongs to it, so the next request starts on a new socket.
    private var isOutOfStep = false

    /// How long to wait for the kernel's answer before calling the socket
    /// broken. The kernel answers in microseconds; this bounds the damage
    /// of a bug, it is not a tuning knob.
    private static let replyTimeoutSeconds = 10

    /// A connected socket of `netlinkProtocol` (NETLINK_GENERIC, NETLINK_ROUTE).
    init(protocol netlinkProtocol: Int32) throws(KernelErrno) {
        let socket = try Self.connectedSocket(netlinkProtocol)
        guard let callbacks = nl_cb_alloc(NL_CB_DEFAULT) else {
            nl_socket_free(socket)
            throw KernelErrno(ENOMEM)
        }
        self.socket = socket
        self.netlinkProtocol = netlinkProtocol
        self.callbacks = callbacks
        installCallbacks()
    }

    deinit {
        nl_cb_put(callbacks)
        nl_socket_free(socket)
    }

    /// Lends the socket to a libnl call that makes its own exchange with the
    /// socket's default callbacks (`genl_ctrl_resolve`).
    func withSocket<Result>(_ body: (OpaquePointer) -> Result) -> Result { body(socket) }

    /// Sends `message`, hands each reply's header to `onReply` while libnl's
    /// receive buffer holds it, and returns once the kernel has ended the
    /// exchange. A kernel error is thrown with the kernel's own errno.
    func exchange(_ message: OpaquePointer, onReply: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(KernelErrno) {
        if isOutOfStep { try reconnect() }
        try withoutActuallyEscaping(onReply) { onReply throws(KernelErrno) in
            collector.begin(onReply: onReply)
            defer { collector.end() }
            do throws(KernelErrno) {
                try sendAndReceive(message)
            } catch {
                isOutOfStep = true
                throw error
            }
        }
        if collector.kernelErrno != 0 { throw KernelErrno(collector.kernelErrno) }
    }

    /// Sends `message` and reads replies until the collector says the kernel
    /// ended the exchange (ACK, error or end of dump). One receive may end
    /// after the reply of a plain request, before its ACK, so reading goes
    /// on until a terminator; `nl_recvmsgs_report` returns the number of
    /// messages read (plain `nl_recvmsgs` returns 0 for any success, which
    /// cannot tell "read a reply" from "read nothing").
    private func sendAndReceive(_ message: OpaquePointer) throws(KernelErrno) {
        let sent = nl_send_auto(socket, message)
        guard sent >= 0 else { throw KernelErrno(libnlCode: sent) }
        while !collector.isFinished {
            let status = nl_recvmsgs_report(socket, callbacks)
            if collector.isFinished { break }
            if status <= 0 {
                // Nothing read: SO_RCVTIMEO expired (NLE_AGAIN) or the socket closed.
                let timedOut = status == 0 || status == -NLE_AGAIN
                throw timedOut ? KernelErrno(ETIMEDOUT) : KernelErrno(libnlCode: status)
            }
        }
    }

    private func reconnect() throws(KernelErrno) {
        let fresh = try Self.connectedSocket(netlinkProtocol)
        nl_socket_free(socket)
        socket = fresh
        isOutOfStep = false
    }

    private static func connectedSocket(_ netlinkProtocol: Int32) throws(KernelErrno) -> OpaquePointer {
        guard let socket = nl_socket_alloc() else { throw KernelErrno(ENOMEM) }
        do throws(KernelErrno) {
            // genl_connect is this call with NETLINK_GENERIC.
            let status = nl_connect(socket, netlinkProtocol)
            guard status == 0 else { throw KernelErrno(libnlCode: status) }
            var timeout = timeval(tv_sec: replyTimeoutSeconds, tv_usec: 0)
            let size = socklen_t(MemoryLayout<timeval>.size)
            try SystemCall.check("set the receive timeout (SO_RCVTIMEO) of", "a netlink socket") {
                setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, size)
            }
        } catch {
            nl_socket_free(socket)
            throw error
        }
        return socket
    }

    /// The trampolines get the collector back from libnl's context pointer.
    /// Unretained is safe: the collector lives as long as this socket, and
    /// callbacks only run inside `nl_recvmsgs_report` calls made by `exchange`.
    private func installCallbacks() {
        let context = Unmanaged.passUnretained(collector).toOpaque()
        nl_cb_set(
            callbacks, NL_CB_VALID, NL_CB_CUSTOM,
            { message, context in
                if let header = nlmsg_hdr(message) { ReplyCollector.from(context).deliver(header) }
                return Int32(NL_OK.rawValue)
            }, context)
        // An ACK ends a plain request, NLMSG_DONE a dump: the same end.
        let endOfExchange: nl_recvmsg_msg_cb_t = { _, context in
            ReplyCollector.from(context).finish(kernelErrno: 0)
            return Int32(NL_STOP.rawValue)
        }
        nl_cb_set(callbacks, NL_CB_ACK, NL_CB_CUSTOM, endOfExchange, context)
        nl_cb_set(callbacks, NL_CB_FINISH, NL_CB_CUSTOM, endOfExchange, context)
        // Without this, libnl turns the kernel's errno into an NLE_* code and
        // ESRCH ("no such service") becomes indistinguishable from ENOENT.
        nl_cb_err(
            callbacks, NL_CB_CUSTOM,
            { _, error, context in
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
    private var onReply: ((UnsafeMutablePointer<nlmsghdr>) -> Void)?

    static func from(_ context: UnsafeMutableRawPointer?) -> ReplyCollector {
        Unmanaged<ReplyCollector>.fromOpaque(context!).takeUnretainedValue()
    }

    func begin(onReply: @escaping (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        isFinished = false
        kernelErrno = 0
        self.onReply = onReply
    }

    func end() { onReply = nil }

    func deliver(_ header: UnsafeMutablePointer<nlmsghdr>) { onReply?(header) }

    func finish(kernelErrno: Int32) {
        isFinished = true
        self.kernelErrno = kernelErrno
    }
}
