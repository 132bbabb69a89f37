import Foundation
import PlanWatchTestSupport
import Testing

@testable import PlanWatchRuntime

/// A part of the runtime that stops on its own must fail the runtime, so that the daemon exits
/// non-zero and its supervisor restarts it; a daemon that no longer reads the bus must not keep
/// answering its health checks.
@Suite struct PartFailureTests {
    @Test func socketsThatFailUnderTheRuntimeFailItInsteadOfLeavingItDeaf() async throws {
        let h = try Harness()
        let dealer = try h.dealer()
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "before-the-fault", incidentId: "INC-F1"))[0] == "ok")
        dealer.close()
        // What every part's sockets see when libzmq gives up on them: ETERM on the next call.
        h.runtime.context.shutdown()
        let error = try await Self.failure(of: h.runtime, within: 20)
        let text = "\(error.map { "\($0)" } ?? "none")"
        #expect(text.contains("ingest stopped") || text.contains("snapshot server stopped"), "\(text)")
        // stop() returns: the pipeline drained and every thread ended (a hang fails, not waits).
        nonisolated(unsafe) let harness = h
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            harness.stop()
            stopped.signal()
        }.start()
        #expect(stopped.wait(timeout: .now() + 60) == .success, "stop() did not return within 60 s")

        // The supervisor's restart finds what was acknowledged before the fault.
        let again = try Harness(directory: h.directory)
        defer { again.stop() }
        #expect(again.runtime.outputs.firingAlert("safety.incident/INC-F1") != nil)
    }

    /// The runtime's failure, or a test failure after `seconds`.
    static func failure(of runtime: Runtime, within seconds: Double) async throws -> (any Error)? {
        try await withThrowingTaskGroup(of: (any Error)?.self) { group in
            group.addTask { await runtime.failure() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw TimedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    struct TimedOut: Error, CustomStringConvertible { var description: String { "the runtime did not fail within the deadline" } }
}
