import ECMPCore
import ECMPNetlink

/// IPVS over generic netlink for the controller. The family is resolved on
/// first use, not at start-up: the ip_vs module may be loaded later (an
/// unreadable table counts as no backends meanwhile). A failed table read
/// drops the client, so the next read resolves the family again, as it
/// must after the module was reloaded.
final class KernelIPVS: IPVSEdge {
    private var client: IPVSClient?

    func table() throws -> IPVSTable {
        do {
            return try connected().table()
        } catch {
            client = nil
            throw error
        }
    }

    func services() throws -> [IPVSService] {
        try connected().services()
    }

    func apply(_ plan: IPVSReconcilePlan) throws {
        try connected().apply(plan)
    }

    private func connected() throws(NetlinkError) -> IPVSClient {
        if let client { return client }
        let opened = try IPVSClient()
        client = opened
        return opened
    }
}
