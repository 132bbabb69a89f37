import DigitalInfrastructure
import Foundation
import HandlerCatalog
import HandlerKit
import Logging
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchSimulator
import PlanWatchTestSupport
import Testing

/// The journal is the truth: replaying it gives what the live daemon published, byte for byte.
@Suite struct ReplayTests {
    static let zibo = PlanSet(plans: [
        Plan(
            plan: "Zibo 2020", title: "t", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
            targets: [
                PlanTarget(indicator: "preschool.public_share", scope: .city, atLeast: 0.5, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §6"),
                PlanTarget(indicator: "projects.completed.kindergarten", scope: .city, atLeast: 103, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §6"),
            ])
    ])

    @Test(arguments: JournalBackend.available)
    func replayingTheSameJournalTwiceGivesByteIdenticalOutputsEqualToWhatWasPublished(backend: JournalBackend) throws {
        let directory = TemporaryDirectory()
        let path = try backend.makeJournal(in: directory)
        var config = RuntimeConfig()
        config.clock = .event
        config.plans = Self.zibo
        // The simulated year has the DigitalInfrastructure plugin's events too: its handler is in.
        let handlers = HandlerCatalog.builtIn() + [DigitalInfrastructureHandler()]
        let h = try Harness(directory: directory, handlers: handlers, clock: .event) {
            $0.journalPath = path
            $0.plans = Self.zibo
        }
        let sub = try h.subscriber([""])
        let dealer = try h.dealer()
        let events = Simulator(seed: 11, schoolsPerDistrict: 8, days: 200, families: Set(Simulator.Family.allCases).subtracting([.finance])).events()
        for event in events { try dealer.send([Array(event.topic.utf8), event.body]) }
        for _ in events { _ = try #require(try dealer.receive(within: 60)) }
        var live: [Replay.Output] = []
        while let frames = try sub.receive(within: 1) {
            live.append(Replay.Output(topic: String(decoding: frames[0], as: UTF8.self), body: frames[1]))
        }
        h.stop()
        var logger = Logger(label: "replay")
        logger.logLevel = .critical
        let first = try Replay.outputs(journalPath: path, handlers: handlers, config: config, logger: logger)
        let second = try Replay.outputs(journalPath: path, handlers: handlers, config: config, logger: logger)
        #expect(first == second)
        #expect(first.contains { $0.topic.hasPrefix("alert.") })
        #expect(first.contains { $0.topic.hasPrefix("indicator.") })
        // What the subscriber saw (after it joined) is exactly the replay's tail.
        #expect(live.count > 100)
        #expect(Array(first.suffix(live.count)) == live)
    }
}
