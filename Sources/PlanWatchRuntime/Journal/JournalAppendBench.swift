import PlanWatchModel

/// The pipeline's batched append on a journal of its own, for `planwatch-microbench`: the
/// same call the pipeline makes, without exposing the ``Journal`` protocol beyond this module.
package final class JournalAppendBench {
    private let journal: any Journal

    package init(path: String, synchronousFull: Bool) throws {
        journal = try JournalStore.open(path, role: .writer, synchronousFull: synchronousFull)
    }

    /// Appends the events in one transaction, as received now.
    package func append(_ events: [(topic: [UInt8], body: [UInt8], event: Event)]) throws {
        let entries = events.map { JournalEntry.event($0.event, topic: $0.topic, body: $0.body, receivedAt: $0.event.occurredAt) }
        _ = try journal.append(entries, publishedThrough: 0)
    }

    deinit { journal.close() }
}
