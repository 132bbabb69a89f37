import Foundation
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import Synchronization
import Testing
import ZeroMQ

/// The PostgreSQL journal when the connection breaks the ways real ones do: the server
/// ends the session (`pg_terminate_backend`), a COMMIT lands but its answer is lost, and the
/// old session lingers with the writer lock. A TCP proxy (Tests/Interop/pg_cut_proxy.py)
/// stands between the daemon and the real server to break the connection on cue.
@Suite(.enabled(if: JournalBackend.postgresURL != nil, "needs the PostgreSQL that .ci/test starts"))
struct PostgresFaultTests {
    final class CutProxy {
        let process = Process()
        let port = FreePort.next()
        let control: String

        init(upstream: URLComponents, control: String) throws {
            self.control = control
            try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", CalendarPaths.root.path + "/Tests/Interop/pg_cut_proxy.py", String(port), upstream.host ?? "127.0.0.1",
                String(upstream.port ?? 5432), control,
            ]
            try process.run()
            guard Wait.until(seconds: 30, { FileManager.default.fileExists(atPath: control + "/ready") }) else {
                throw TestFailure("the proxy did not start")
            }
        }

        /// The journal URL through the proxy.
        func url(_ journal: URLComponents) -> String {
            var through = journal
            through.port = port
            return through.string!
        }

        func touch(_ name: String) { _ = FileManager.default.createFile(atPath: control + "/" + name, contents: nil) }
        func happened(_ name: String) -> Bool { FileManager.default.fileExists(atPath: control + "/" + name) }
        /// Client connections the proxy has accepted so far.
        var accepted: Int { count("accepted") }
        /// Client connections the proxy has closed at once, while told to refuse them.
        var refused: Int { count("refused") }
        private func count(_ name: String) -> Int {
            (try? String(contentsOfFile: control + "/" + name, encoding: .utf8)).flatMap { Int($0) } ?? 0
        }

        deinit {
            // SIGKILL: a child of the test runner inherits its blocked signals, SIGTERM among them.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func journal(in dir: TemporaryDirectory) throws -> URLComponents {
        try #require(URLComponents(string: try JournalBackend.postgres.makeJournal(in: dir)))
    }

    /// A daemon whose journal is reached through a cut proxy, without ticks or checkpoints
    /// meanwhile (the next COMMIT is the next batch's); `direct` is the journal's own URL.
    func daemonBehindProxy(in dir: TemporaryDirectory) throws -> (direct: URLComponents, proxy: CutProxy, daemon: DaemonProcess) {
        let direct = try journal(in: dir)
        let proxy = try CutProxy(upstream: direct, control: dir.path + "/control")
        let daemon = try DaemonProcess(
            journal: proxy.url(direct), extraArguments: ["--tick-interval-ms", "600000"], logPath: dir.path + "/d.log")
        return (direct, proxy, daemon)
    }

    /// Sends `event` on `dealer` so that its batch is in doubt: the server commits it, the
    /// daemon does not hear so, and every connection it makes afterwards is refused.
    func sendInDoubt(_ event: (topic: [UInt8], body: [UInt8]), on dealer: ZMQSocket, through proxy: CutProxy) throws {
        proxy.touch("refuse")
        proxy.touch("cut-after-commit")
        try dealer.send([event.topic, event.body])
    }

    @Test func aCommitWhoseAnswerIsLostIsKnownAsRecordedAndTheWriterGoesOn() throws {
        let dir = TemporaryDirectory()
        let (direct, proxy, daemon) = try daemonBehindProxy(in: dir)
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        for n in 0..<5 { #expect(try peer.ack(dealer, Fixtures.incident(id: "a-\(n)", incidentId: "INC-A\(n)"))[0] == "ok") }
        proxy.touch("cut-after-commit")
        // The batch holding it commits on the server; the daemon never hears so, reconnects,
        // finds it in the journal, and answers ok: nothing is lost, nothing is recorded twice.
        let reply = try peer.ack(dealer, Fixtures.incident(id: "a-cut", incidentId: "INC-ACUT"))
        #expect(Wait.until(seconds: 30) { proxy.happened("cut-done") })
        #expect(reply[0] == "ok" || reply[0] == "duplicate", "\(reply)")
        for n in 5..<10 { #expect(try peer.ack(dealer, Fixtures.incident(id: "a-\(n)", incidentId: "INC-A\(n)"))[0] == "ok") }
        #expect(try daemon.terminate() == 0)
        #expect(daemon.log.contains("a batch whose commit was not confirmed is in the journal"), "\(daemon.logEnd(3000))")
        let counts = try JournalInspection.eventCounts(journalPath: direct.string!)
        #expect(counts.count == 11)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    /// The COMMIT lands, its answer is lost, and the server cannot be reached to ask whether it
    /// did. Refused then, the batch's producer sent it again and it was journaled twice; now
    /// the answer waits until the server can tell.
    @Test func aBatchInDoubtWhileTheServerIsUnreachableIsAnsweredOnceKnownAndJournaledOnce() throws {
        let dir = TemporaryDirectory()
        let (direct, proxy, daemon) = try daemonBehindProxy(in: dir)
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        for n in 0..<3 { #expect(try peer.ack(dealer, Fixtures.incident(id: "d-\(n)", incidentId: "INC-D\(n)"))[0] == "ok") }
        let doubtful = Fixtures.incident(id: "d-cut", incidentId: "INC-DCUT")
        try sendInDoubt(doubtful, on: dealer, through: proxy)
        #expect(Wait.until(seconds: 30) { proxy.happened("cut-done") }, "\(daemon.logEnd(3000))")
        // The daemon asks again and again; the server stays out of reach for a while.
        let asked = Wait.until(seconds: 60) { proxy.refused >= 3 }
        let early = try dealer.receive(wait: false)?.map { String(decoding: $0, as: UTF8.self) }
        try #require(
            asked && early == nil,
            "asked \(proxy.refused) times while the server was out of reach; answered meanwhile: \(early ?? []); \(daemon.logEnd(3000))")
        // Operators see it: each attempt that finds the server out of reach counts as a failed
        // journal write (what their alert on failed writes watches), though no batch was refused.
        let counted = Wait.until(seconds: 30) { daemon.metric("planwatch_journal_write_failures_total ") >= 3 }
        #expect(counted, "planwatch_journal_write_failures_total \(daemon.metric("planwatch_journal_write_failures_total ")) while a batch was in doubt")
        #expect(try daemon.httpBody("/readyz").contains("journal writes are failing"), "ready while a batch was in doubt")
        try FileManager.default.removeItem(atPath: dir.path + "/control/refuse")
        let reply = try #require(try dealer.receive(within: 60), "no answer once the server was back: \(daemon.logEnd(3000))")
        #expect(String(decoding: reply[0], as: UTF8.self) == "ok", "\(reply.map { String(decoding: $0, as: UTF8.self) })")
        // A producer that gave up waiting sends it again: a duplicate, not a second entry.
        #expect(try peer.ack(dealer, doubtful)[0] == "duplicate")
        for n in 3..<6 { #expect(try peer.ack(dealer, Fixtures.incident(id: "d-\(n)", incidentId: "INC-D\(n)"))[0] == "ok") }
        #expect(try daemon.httpBody("/readyz") == "ready\n")
        #expect(try daemon.terminate() == 0)
        #expect(daemon.log.contains("PostgreSQL cannot be asked whether it landed"), "\(daemon.logEnd(3000))")
        #expect(daemon.log.contains("a batch whose commit was not confirmed is in the journal"), "\(daemon.logEnd(3000))")
        let counts = try JournalInspection.eventCounts(journalPath: direct.string!)
        #expect(counts.count == 7)
        #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.filter { $0.value != 1 })")
    }

    /// SIGTERM while a batch is in doubt: the daemon stops (it does not wait for the server
    /// for ever), and the next one, whose dedupe window comes from the journal, knows the
    /// batch's event as a duplicate when its producer sends it again.
    @Test func aDaemonStoppedWithABatchInDoubtStopsAndTheNextKnowsTheBatch() throws {
        let dir = TemporaryDirectory()
        let (direct, proxy, daemon) = try daemonBehindProxy(in: dir)
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        #expect(try peer.ack(dealer, Fixtures.incident(id: "s-0", incidentId: "INC-S0"))[0] == "ok")
        let doubtful = Fixtures.incident(id: "s-cut", incidentId: "INC-SCUT")
        try sendInDoubt(doubtful, on: dealer, through: proxy)
        try #require(Wait.until(seconds: 60) { proxy.refused >= 3 }, "\(daemon.logEnd(3000))")
        #expect(try daemon.terminate() == 0, "\(daemon.logEnd(3000))")
        #expect(daemon.log.contains("stopping with a batch in doubt"), "\(daemon.logEnd(3000))")
        // Refused, not answered ok: this daemon could not tell.
        let refused = try dealer.receive(within: 30)?.map { String(decoding: $0, as: UTF8.self) }
        #expect(refused?.first == "busy", "\(refused ?? [])")
        let next = try DaemonProcess(journal: direct.string!, extraArguments: ["--tick-interval-ms", "600000"], logPath: dir.path + "/d2.log")
        let again = try peer.dealer(to: next.ack)
        #expect(try peer.ack(again, doubtful)[0] == "duplicate", "\(next.logEnd(3000))")
        #expect(try next.terminate() == 0)
        let counts = try JournalInspection.eventCounts(journalPath: direct.string!)
        #expect(counts.count == 2)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test func sessionsEndedByTheServerUnderLoadLoseNothingAndCountNothingTwice() throws {
        let dir = TemporaryDirectory()
        let url = try journal(in: dir).string!
        let daemon = try DaemonProcess(journal: url, logPath: dir.path + "/d.log")
        let database = String(try #require(URLComponents(string: url)).path.dropFirst())
        let server = try #require(JournalBackend.postgresURL)
        let acked = Mutex<Set<String>>([])
        let ack = daemon.ack
        let producer = Thread {
            Producer.run(count: 600, ack: ack) { n in
                let e = Fixtures.incident(id: "t-\(n)", source: "terminated", incidentId: "INC-T\(n)")
                return (e.topic, e.body, "t-\(n)")
            } answered: { id, _ in
                acked.withLock { _ = $0.insert(id) }
            }
        }
        producer.start()
        var terminated = 0
        for round in 1...5 {
            #expect(
                Wait.until(seconds: 120) { acked.withLock { $0.count } >= round * 100 },
                "round \(round): acknowledged \(acked.withLock { $0.count }); the daemon's log ends: \(daemon.logEnd(3000))")
            // While the daemon reconnects it has no session to end: try again until one ends.
            let ended = Wait.until(seconds: 60) {
                let kill = try? run(
                    "/usr/bin/psql",
                    [server, "-tAc", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)'"])
                let count = kill.flatMap { Int($0.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
                terminated += count
                return count > 0
            }
            #expect(ended, "round \(round): no session of the daemon to end; its log ends: \(daemon.logEnd(3000))")
        }
        #expect(
            Wait.until(seconds: 300) { acked.withLock { $0.count } == 600 },
            "acknowledged \(acked.withLock { $0.count }) of 600; the daemon's log ends: \(daemon.logEnd(6000))")
        #expect(terminated >= 5, "sessions ended: \(terminated)")
        #expect(daemon.process.isRunning)
        #expect(try daemon.terminate() == 0)
        let counts = try JournalInspection.eventCounts(journalPath: url)
        #expect(counts.count == 600)
        #expect(counts.values.allSatisfy { $0 == 1 })
        let verify = try run(Products.path("planwatch"), ["replay", "--verify", "--journal", url])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// A daemon with `storage.lockWaitSeconds` set whose journal is reached through a cut
    /// proxy, once it has acknowledged `first`, and the dealer that sent it.
    func writerBehindProxy(in dir: TemporaryDirectory, lockWaitSeconds: Int, first: (topic: [UInt8], body: [UInt8])) throws
        -> (direct: URLComponents, proxy: CutProxy, daemon: DaemonProcess, peer: Peer, dealer: ZMQSocket)
    {
        let direct = try journal(in: dir)
        let proxy = try CutProxy(upstream: direct, control: dir.path + "/control")
        let config = dir.path + "/planwatchd.yaml"
        try "storage:\n  lockWaitSeconds: \(lockWaitSeconds)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(journal: proxy.url(direct), extraArguments: ["--config", config], logPath: dir.path + "/d.log")
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        #expect(try peer.ack(dealer, first)[0] == "ok")
        return (direct, proxy, daemon, peer, dealer)
    }

    /// The network drops the daemon's connection; the server keeps the old session (and its
    /// lock). The next tick's batch finds the connection broken: the daemon reconnects and
    /// waits for its lock, so `event`, sent then, is not answered while the old session holds it.
    func severKeepingTheLock(_ proxy: CutProxy, then event: (topic: [UInt8], body: [UInt8]), on dealer: ZMQSocket) throws {
        let before = proxy.accepted
        proxy.touch("hold-upstream")
        proxy.touch("sever")
        #expect(Wait.until(seconds: 30) { proxy.happened("severed") })
        #expect(Wait.until(seconds: 30) { proxy.accepted > before }, "the daemon did not reconnect")
        try dealer.send([event.topic, event.body])
        let early = try dealer.receive(within: 1)?.map { String(decoding: $0, as: UTF8.self) }
        #expect(early == nil, "answered \(early ?? []) while the old session held the lock")
    }

    @Test func aWriterWhoseOldSessionLingersWaitsForItThenGoesOn() throws {
        let dir = TemporaryDirectory()
        let (_, proxy, daemon, _, dealer) = try writerBehindProxy(in: dir, lockWaitSeconds: 20, first: Fixtures.incident(id: "l-0", incidentId: "INC-L0"))
        try severKeepingTheLock(proxy, then: Fixtures.incident(id: "l-1", incidentId: "INC-L1"), on: dealer)
        proxy.touch("release-upstream")  // the server notices the old session is gone
        let reply = try #require(try dealer.receive(within: 30), "no acknowledgement once the old session ended")
        #expect(String(decoding: reply[0], as: UTF8.self) == "ok", "\(reply.map { String(decoding: $0, as: UTF8.self) })")
        #expect(daemon.process.isRunning)
        #expect(try daemon.terminate() == 0)
    }

    /// SIGTERM while the writer waits for its lock back (an old session lingers; the wait may
    /// be set to an hour): the daemon stops 5 s after it is told (its grace for a slow server),
    /// not at the end of the wait; the batch that waited is refused, and its producer's resend
    /// is journaled by the next daemon.
    @Test func aWriterWaitingForItsLockBackStopsWhenToldNotAtTheEndOfItsWait() throws {
        let dir = TemporaryDirectory()
        let (direct, proxy, daemon, peer, dealer) = try writerBehindProxy(in: dir, lockWaitSeconds: 600, first: Fixtures.incident(id: "w-0", incidentId: "INC-W0"))
        let waiting = Fixtures.incident(id: "w-1", incidentId: "INC-W1")
        try severKeepingTheLock(proxy, then: waiting, on: dealer)
        // The wait ends once the daemon has been stopping for 5 s: far less than its 600 s.
        #expect(try daemon.terminate(timeout: 30) == 0, "\(daemon.logEnd(3000))")
        #expect(daemon.log.contains("stopped while waiting for its lock back"), "\(daemon.logEnd(3000))")
        let refused = try dealer.receive(within: 30)?.map { String(decoding: $0, as: UTF8.self) }
        #expect(refused?.first == "busy", "\(refused ?? [])")
        proxy.touch("release-upstream")
        let next = try DaemonProcess(journal: direct.string!, logPath: dir.path + "/d2.log")
        #expect(try peer.ack(try peer.dealer(to: next.ack), waiting)[0] == "ok", "\(next.logEnd(3000))")
        #expect(try next.terminate() == 0)
        let counts = try JournalInspection.eventCounts(journalPath: direct.string!)
        #expect(counts.count == 2 && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
    }

    @Test func aWriterThatCannotGetItsLockBackStopsNonZeroForItsSupervisor() throws {
        let dir = TemporaryDirectory()
        let (direct, proxy, daemon, peer, _) = try writerBehindProxy(in: dir, lockWaitSeconds: 2, first: Fixtures.incident(id: "f-0", incidentId: "INC-F0"))
        proxy.touch("hold-upstream")
        proxy.touch("sever")
        // The old session never ends: after its wait the daemon stops, non-zero, instead of
        // running without a journal.
        #expect(try daemon.waitForExit(timeout: 60) != 0)
        #expect(daemon.log.contains("lost the journal lock"), "\(daemon.logEnd(2000))")
        proxy.touch("release-upstream")
        let again = try DaemonProcess(journal: direct.string!, logPath: dir.path + "/d2.log")
        #expect(try peer.ack(try peer.dealer(to: again.ack), Fixtures.incident(id: "f-0", incidentId: "INC-F0"))[0] == "duplicate")
        #expect(try again.terminate() == 0)
    }
}
