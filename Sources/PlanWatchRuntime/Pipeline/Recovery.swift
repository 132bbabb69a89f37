import Foundation
import Logging

/// Rebuilding handler state from a checkpoint and the journal entries after it, the one way
/// the daemon (at start) and `planwatch replay`, `--verify` and `explain` all do it: load the
/// quarantine, restore the checkpoint, process each entry in order.
enum Recovery {
    /// Restores `checkpoint` into `processor` (and runs `alongside` meanwhile, see
    /// ``Processor/restore(_:alongside:)``), then `restored` (what joins the parts restored),
    /// and processes every entry after it (up to `through`, if given), handing each entry and
    /// what it produced to `each`.
    static func replay(
        _ processor: Processor, journal: any Journal, from checkpoint: JournalCheckpoint, through: Int64? = nil,
        alongside: [RestoreJob] = [], restored: () -> Void = {}, _ each: (JournalEntry, Processed) throws -> Void
    ) throws {
        try processor.loadQuarantine()
        try processor.restore(checkpoint, alongside: alongside)
        restored()
        let before = through.map { $0 == .max ? $0 : $0 + 1 } ?? .max
        try journal.forEachEntry(after: checkpoint.position, before: before) { entry in
            try each(entry, processor.process(entry))
        }
    }

    /// At the daemon's start, before anything else reads the journal: if the last two runs
    /// died in the same handler on the same entry (``CrashGuard``), quarantines that entry for
    /// that handler, so that this start gets past it.
    static func quarantineCrashSpot(_ guardFile: CrashGuard, processor: Processor, journal: any Journal, logger: Logger) throws {
        if let died = guardFile.diedAt {
            logger.warning(
                "the last run stopped abnormally while a handler processed a journal entry",
                metadata: ["position": "\(died.position)", "handler": "\(processor.name(ofHash: died.handler) ?? "unknown")"])
        }
        guard let spot = guardFile.quarantine else { return }
        guard let name = processor.name(ofHash: spot.handler) else {
            logger.error("the handler the daemon died in is no longer loaded; nothing quarantined", metadata: ["position": "\(spot.position)"])
            guardFile.quarantined()
            return
        }
        let reason =
            "planwatchd stopped abnormally (a trap or a signal) while \(name) processed this entry, on \(CrashGuard.strikes) starts in a row; see those runs' logs"
        try journal.quarantine(
            Quarantined(position: spot.position, handler: name, reason: reason, createdAt: Int64(Date().timeIntervalSince1970 * 1000)))
        guardFile.quarantined()
        logger.critical(
            "journal entry quarantined: withheld from one handler for good, so that the daemon can go on",
            metadata: ["position": "\(spot.position)", "handler": "\(name)"])
    }
}
