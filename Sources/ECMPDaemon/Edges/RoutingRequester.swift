/// Where the controller asks for the routing configs to be rendered again
/// (a drain raising lo's cost, an undrain). The daemon passes its
/// `RoutingCoordinator`, which works on its own thread, so a slow vtysh
/// never delays a cycle; tests pass a fake that records the requests.
public protocol RoutingRequester: Sendable {
    func request(_ inputs: RoutingCoordinator.Inputs?, reason: String, after delay: Duration) async
}

extension RoutingCoordinator: RoutingRequester {}
