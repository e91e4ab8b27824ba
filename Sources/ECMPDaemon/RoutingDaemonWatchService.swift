import ECMPCore
import ECMPRouting
import Logging
import ServiceLifecycle

/// Looks every `interval` (monotonic clock) at whether the routing daemons
/// run (`RoutingDaemonProbe`: pid files and /proc, a few small reads) and
/// reports to the coordinator, which publishes it and reloads a daemon that
/// came back. Off the reconcile path: the VIPs on lo never wait for it.
///
/// With `ospf.bfd` on it also reads bfdd's sessions (`BFDSessionReader`)
/// for `/status` and `/metrics`, counting flaps across reads.
///
/// With `routing.reload: none` nothing is watched: ecmpd only installs the
/// files, a daemon it does not reload is not its to judge (it may not even
/// run on this host), and `/status` and `/metrics` show no daemon rows.
/// The settings are read on every look, so a SIGHUP that changes
/// `routing.reload` or `routing.pathspace` takes effect at the next one.
struct RoutingDaemonWatchService: Service {
    let routing: RoutingCoordinator
    let interval: Duration
    let logger: Logger

    static let defaultInterval = Duration.seconds(2)

    func run() async throws {
        var flaps = BFDFlapCounter()
        await ServiceLoop.repeating(every: interval) {
            let settings = await routing.routingSettings
            let bfd = await routing.bfdEnabled
            let ospf6 = await routing.ospf6Enabled
            let look =
                settings.reload == .none ? nil : RoutingDaemonProbe(settings: settings).look(bfd: bfd, ospf6: ospf6)
            await routing.observeDaemons(look)
            guard bfd else {
                await routing.observeBFD(nil)
                return
            }
            // One vtysh run per look: a process start, a few milliseconds.
            let reader = BFDSessionReader(vtysh: settings.vtysh, pathspace: settings.pathspace)
            do {
                let sessions = try reader.read()
                await routing.observeBFD(BFDStatus(sessions: flaps.observe(sessions)))
            } catch {
                await routing.observeBFD(BFDStatus(sessions: [], error: "\(error)"))
            }
        }
    }
}
