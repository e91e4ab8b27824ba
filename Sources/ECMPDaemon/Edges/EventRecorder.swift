import ECMPCore

/// Where the controller's events go (announce, withdraw, drain, quorum,
/// IPVS writes). `record` must not wait: the daemon passes its
/// `EventSink`, which only enqueues; tests pass a fake that keeps them.
public protocol EventRecorder: Sendable {
    func record(_ event: ControllerEvent)
}

extension EventSink: EventRecorder {}
