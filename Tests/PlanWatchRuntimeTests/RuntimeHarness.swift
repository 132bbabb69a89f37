import Foundation
import HandlerCatalog
import HandlerKit
import Logging
import PlanWatchRuntime
import PlanWatchTestSupport
import ZeroMQ

/// A runtime on wildcard loopback ports and a journal in a temporary directory.
final class Harness {
    let directory: TemporaryDirectory
    let runtime: Runtime
    let endpoints: BoundEndpoints
    let peer = Peer()

    init(
        directory: TemporaryDirectory = TemporaryDirectory(), handlers: [any Handler] = HandlerCatalog.builtIn(),
        clock: ClockMode = .wall, logger: Logger? = nil, configure: (inout RuntimeConfig) -> Void = { _ in }
    ) throws {
        self.directory = directory
        var config = RuntimeConfig()
        config.ingestBind = ["tcp://127.0.0.1:*"]
        config.ackBind = ["tcp://127.0.0.1:*"]
        config.publishBind = ["tcp://127.0.0.1:*"]
        config.snapshotBind = ["tcp://127.0.0.1:*"]
        config.journalPath = directory.path + "/journal.sqlite"
        config.tickIntervalMilliseconds = 100
        config.clock = clock
        configure(&config)
        var quiet = Logger(label: "test")
        quiet.logLevel = .warning
        runtime = Runtime(config: config, handlers: handlers, logger: logger ?? quiet)
        try runtime.start()
        endpoints = runtime.endpoints!
    }

    func subscriber(_ prefixes: [String]) throws -> ZMQSocket {
        try peer.subscriber(to: endpoints.publish[0], prefixes: prefixes, probeAck: endpoints.ack[0])
    }

    func dealer() throws -> ZMQSocket { try peer.dealer(to: endpoints.ack[0]) }

    func stop() { runtime.stop() }
}
