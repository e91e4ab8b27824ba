import CNetlink
import Glibc

/// One generic netlink socket bound to one family, used for request after
/// request. It builds each request and reads each reply's attributes; the
/// exchange itself (keeping replies in step with requests, the kernel's
/// own errno) is `NetlinkRequestSocket`'s.
final class GenericNetlinkSocket {
    enum Kind {
        /// A plain request: answered by at most one reply, then an ACK.
        case request
        /// A dump: a series of replies, then NLMSG_DONE.
        case dump
    }

    private let requests: NetlinkRequestSocket
    private let familyID: Int32
    private let familyVersion: UInt8

    /// Resolves `family` once, so requests never pay for a lookup.
    /// Throws ENOENT when the kernel does not know the family (for IPVS:
    /// the ip_vs module is not loaded).
    init(family: String, version: UInt8) throws(KernelErrno) {
        requests = try NetlinkRequestSocket(protocol: NETLINK_GENERIC)
        let id = requests.withSocket { genl_ctrl_resolve($0, family) }
        guard id >= 0 else { throw KernelErrno(libnlCode: id) }
        familyID = id
        familyVersion = version
    }

    /// Sends `command` with the attributes `build` writes, hands each reply's
    /// top-level attributes (indexed up to `maxAttribute`) to `onReply`, and
    /// returns once the kernel has terminated the exchange. A kernel error
    /// is thrown with the kernel's errno; a reply that cannot be parsed is
    /// EPROTO.
    func exchange(
        _ command: Int, kind: Kind = .request, maxAttribute: Int = 0,
        build: (GenericNetlinkMessage) throws(KernelErrno) -> Void = { _ in },
        onReply: ((GenericNetlinkAttributes) -> Void)? = nil
    ) throws(KernelErrno) {
        guard let message = nlmsg_alloc() else { throw KernelErrno(ENOMEM) }
        defer { nlmsg_free(message) }
        let flags = kind == .dump ? NLM_F_DUMP : 0
        guard
            genlmsg_put(
                message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), familyID, 0, flags,
                UInt8(command), familyVersion) != nil
        else { throw KernelErrno(EMSGSIZE) }
        try build(GenericNetlinkMessage(message))

        var unreadableReplies = 0
        try requests.exchange(message) { header in
            guard let onReply else { return }
            guard let attributes = GenericNetlinkAttributes(message: header, maxType: maxAttribute) else {
                unreadableReplies += 1
                return
            }
            onReply(attributes)
        }
        if unreadableReplies > 0 { throw KernelErrno(EPROTO) }
    }
}
