import ECMPCore
import Logging

/// What `ecmpd run` does with a state file it refuses (`StateFileError.isRefusal`:
/// a symbolic link, not a regular file, another user's): it says so in the
/// log and in the history, with what follows from the refusal, and never
/// obeys the file.
extension RecordFile {
    /// The record; a refused file is reported and then read as absent.
    func readTreatingRefusalAsAbsent(
        events: any EventRecorder, logger: Logger, consequence: String
    ) throws -> Record? {
        do {
            return try read()
        } catch let error as StateFileError where error.isRefusal {
            reportRefusal(error, consequence: consequence, events: events, logger: logger)
            return nil
        }
    }

    /// Logs and records a refusal; any other error is left to the caller.
    func reportRefusal(_ error: any Error, consequence: String, events: any EventRecorder, logger: Logger) {
        guard let error = error as? StateFileError, error.isRefusal else { return }
        logger.error(
            "state file refused",
            metadata: [
                "path": "\(error.path)", "reason": "\(error.reason)", "consequence": "\(consequence)",
            ])
        events.record(ControllerEvent(kind: .stateFile, reason: "\(error); \(consequence)"))
    }
}
