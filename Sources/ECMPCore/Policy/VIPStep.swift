/// What one policy step returns: the state to keep, and the change to make
/// on lo, if any.
public struct VIPStep: Sendable, Equatable {
    public var state: VIPState
    public var transition: VIPTransition?

    public init(state: VIPState, transition: VIPTransition? = nil) {
        self.state = state
        self.transition = transition
    }
}
