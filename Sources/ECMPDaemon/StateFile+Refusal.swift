import ECMPCore
import Logging

/// What `ecmpd run` does with a state file it refuses (`StateFileError.isRefusal`):
/// it says so in the log and in the history, with what follows from the refusal.
extension StateFile {
    /// The record; a refused file is reported and then read as absent.
    func readTreatingRefusalAsAbsent(
        events: EventSink, logger: Logger, consequence: String
    ) throws(Failure) -> Record? {
        do throws(Failure) {
            return try read()
        } catch where error.isRefusal {
            Self.report(error, consequence: consequence, events: events, logger: logger)
            return nil
        }
    }

    /// The record; a refused file is reported, then thrown like any failure to read.
    func readReportingRefusal(
        events: EventSink, logger: Logger, consequence: String
    ) throws(Failure) -> Record? {
        do throws(Failure) {
            return try read()
        } catch {
            if error.isRefusal { Self.report(error, consequence: consequence, events: events, logger: logger) }
            throw error
        }
    }

    private static func report(_ error: Failure, consequence: String, events: EventSink, logger: Logger) {
        logger.error("state file refused", metadata: [
            "path": "\(error.path)", "reason": "\(error.reason)", "consequence": "\(consequence)",
        ])
        events.record(ControllerEvent(kind: .stateFile, reason: "\(error); \(consequence)"))
    }
}
