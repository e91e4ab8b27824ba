/// Decides, per VIP, whether it belongs on lo: a pure state machine driven
/// by observations of its backends, with the caller's clock readings
/// injected, so it runs without root, sockets or sleeps.
///
/// - Announced while at least `minimumHealthy` backends are usable; an
///   announced VIP is withdrawn after `fall` bad observations in a row.
/// - A withdrawn VIP is announced again after `rise` good observations in a
///   row, and never sooner than `holdDown` after its last withdrawal: flap
///   damping lives here, not in OSPF timers, which ecmpd sets to zero so
///   a change reaches the router in milliseconds.
/// - A drained VIP is withdrawn regardless of health until undrained.
/// - With `guardsLastAnnouncer`, a health withdrawal is held while the
///   caller reports that no other director announces the VIP: one director
///   with degraded backends is better than none.
public struct VIPPolicy: Sendable, Equatable {
    public var health: HealthPolicy
    public var guardsLastAnnouncer: Bool

    public init(health: HealthPolicy, guardsLastAnnouncer: Bool = false) {
        self.health = health
        self.guardsLastAnnouncer = guardsLastAnnouncer
    }

    /// The state at start-up, adopted from lo: a VIP already there stays
    /// announced until `fall` bad observations (a restart never flaps it);
    /// one that is not waits for `rise` good ones, with no hold-down. A
    /// drained VIP found on lo is withdrawn at once.
    public func adopt(onLoopback: Bool, drained: Bool = false, at now: ContinuousClock.Instant) -> VIPStep {
        switch (onLoopback, drained) {
        case (true, false):
            return VIPStep(state: VIPState(status: .announced))
        case (true, true):
            return VIPStep(
                state: VIPState(status: .withdrawn(.drained), isDrained: true),
                transition: VIPTransition(.withdraw, reason: WithdrawalReason.drained.description, at: now))
        case (false, _):
            return VIPStep(state: VIPState(status: .withdrawn(drained ? .drained : .notYetHealthy), isDrained: drained))
        }
    }

    /// One observation of the VIP's backends.
    public func observe(_ observation: VIPObservation, in state: VIPState) -> VIPStep {
        var next = state
        next.lastObservation = observation
        if isGood(observation) {
            next.consecutiveGood += 1
            next.consecutiveBad = 0
        } else {
            next.consecutiveBad += 1
            next.consecutiveGood = 0
        }
        return decide(next, at: observation.at, othersAnnounce: observation.othersAnnounce, undrained: false)
    }

    /// An operator's drain: the VIP leaves lo now and stays off until
    /// `undrain`. Observations keep counting meanwhile, so an undrain knows
    /// whether the backends are healthy.
    public func drain(_ state: VIPState, at now: ContinuousClock.Instant) -> VIPStep {
        var next = state
        next.isDrained = true
        return decide(next, at: now, othersAnnounce: nil, undrained: false)
    }

    /// Ends a drain. The VIP returns at once if the last `rise` observations
    /// were good (and any health hold-down is over), otherwise as soon as
    /// they are.
    public func undrain(_ state: VIPState, at now: ContinuousClock.Instant) -> VIPStep {
        guard state.isDrained else { return VIPStep(state: state) }
        var next = state
        next.isDrained = false
        if case .withdrawn(.drained) = next.status {
            next.status = .withdrawn(lastBadReason(next) ?? .notYetHealthy)
        }
        return decide(next, at: now, othersAnnounce: nil, undrained: true)
    }

    /// Whether an observation has enough usable backends. No backends at all
    /// is never enough: the VIP would lead to a director with nothing behind it.
    public func isGood(_ observation: VIPObservation) -> Bool {
        health.meetsMinimum(usable: observation.usable, total: observation.total)
    }

    /// Whether `observation` would withdraw the VIP for health, were no
    /// guard to hold it: the last-announcer guard asks who else announces
    /// the VIP only then. A drained VIP is off lo whatever its health.
    public func wouldWithdraw(_ observation: VIPObservation, in state: VIPState) -> Bool {
        guard !state.isDrained else { return false }
        var unguarded = observation
        unguarded.othersAnnounce = nil
        return observe(unguarded, in: state).transition?.action == .withdraw
    }

    /// The level-triggered core: from counters and flags, where the VIP
    /// belongs, and the transition if that differs from where it is.
    private func decide(_ state: VIPState, at now: ContinuousClock.Instant, othersAnnounce: Bool?, undrained: Bool)
        -> VIPStep
    {
        var next = state
        if next.isDrained {
            next.status = .withdrawn(.drained)
            return VIPStep(
                state: next,
                transition: state.isAnnounced
                    ? VIPTransition(.withdraw, reason: WithdrawalReason.drained.description, at: now) : nil)
        }
        if state.isAnnounced {
            guard next.consecutiveBad >= health.fall, let reason = lastBadReason(next) else {
                next.status = .announced
                return VIPStep(state: next)
            }
            if guardsLastAnnouncer && othersAnnounce == false {
                next.status = .heldByLastAnnouncerGuard(reason)
                return VIPStep(state: next)
            }
            next.status = .withdrawn(reason)
            next.lastWithdrawal = now
            var text = reason.description
            if case .heldByLastAnnouncerGuard = state.status {
                text +=
                    othersAnnounce == true
                    ? "; another director announces it again"
                    : "; no longer known whether another director announces it"
            }
            return VIPStep(state: next, transition: VIPTransition(.withdraw, reason: text, at: now))
        }
        if case .withdrawn = state.status, next.consecutiveBad > 0, let reason = lastBadReason(next) {
            // Keep the newest numbers in the reason an operator reads.
            next.status = .withdrawn(reason)
        }
        guard next.consecutiveGood >= health.rise, let observation = next.lastObservation else {
            return VIPStep(state: next)
        }
        if let ends = holdDownEnds(next), now < ends { return VIPStep(state: next) }
        next.status = .announced
        var text = goodReason(observation, observations: next.consecutiveGood)
        if undrained { text = "undrained; " + text }
        if next.lastWithdrawal != nil, health.holdDown > .zero {
            text += "; hold-down of \(DurationParser.format(health.holdDown)) over"
        }
        return VIPStep(state: next, transition: VIPTransition(.announce, reason: text, at: now))
    }

    /// When the hold-down after the last health withdrawal ends, if it
    /// still matters (the VIP is withdrawn).
    public func holdDownEnds(_ state: VIPState) -> ContinuousClock.Instant? {
        guard !state.isAnnounced, let withdrawn = state.lastWithdrawal else { return nil }
        return withdrawn + health.holdDown
    }

    private func lastBadReason(_ state: VIPState) -> WithdrawalReason? {
        guard let observation = state.lastObservation, state.consecutiveBad > 0 else { return nil }
        return .belowMinimum(
            usable: observation.usable, total: observation.total,
            required: health.requiredUsable(ofTotal: observation.total),
            observations: state.consecutiveBad)
    }

    private func goodReason(_ observation: VIPObservation, observations: Int) -> String {
        let minimum = health.requiredUsable(ofTotal: observation.total)
        return "\(observation.usable) of \(observation.total) backend\(observation.total == 1 ? "" : "s") usable, "
            + "at least minimum \(minimum), for \(observations) observation\(observations == 1 ? "" : "s")"
    }
}
