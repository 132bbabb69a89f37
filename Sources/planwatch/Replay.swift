import ArgumentParser
import Foundation
import HandlerCatalog
import Logging
import PlanFiles
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchWire

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild all handler state from a journal; with --verify, compare it with the live checkpoint.",
        discussion: """
            Give the daemon's --config (or the same --plan, --clock and --calendar) as the daemon
            that wrote the journal. Without --verify, prints every output the journal produces
            (topic and body), one per line. Reading is safe while the daemon runs.
            """)

    @OptionGroup var settings: HandlerOptions

    @Flag(help: "Compare the rebuilt state with the daemon's last checkpoint; exit 1 if they differ.")
    var verify = false

    @Flag(help: "JSON: with --verify one object {\"verified\", \"replayed\", \"checkpointPosition\", \"differences\"}; without, one {\"topic\", \"body\"} per output.")
    var json = false

    func run() throws {
        let (handlers, plugins, config) = try settings.load()
        let journal = settings.journal
        var logger = Logger(label: "planwatch.replay")
        logger.logLevel = .warning
        if verify {
            let result = try Replay.verify(journalPath: journal, handlers: handlers, plugins: plugins, config: config, logger: logger)
            if json {
                emit(JSONWriter.string(.object(JSONObject([
                    ("verified", .bool(result.ok)), ("replayed", .integer(Int64(result.replayed))),
                    ("checkpointPosition", .integer(result.checkpointPosition)), ("differences", .array(result.differences.map { .string($0) })),
                ]))))
                if !result.ok { throw ExitCode(1) }
            } else if result.ok {
                print("verified: \(result.replayed) journal entries replayed up to checkpoint position \(result.checkpointPosition); every handler's state equals the checkpoint")
            } else {
                print("MISMATCH at checkpoint position \(result.checkpointPosition): \(result.differences.joined(separator: ", "))")
                throw ExitCode(1)
            }
        } else {
            for output in try Replay.outputs(journalPath: journal, handlers: handlers, plugins: plugins, config: config, logger: logger) {
                if json, let body = try? JSONParser.parse(output.body) {
                    emit(JSONWriter.string(.object(["topic": .string(output.topic), "body": body])))
                } else {
                    emit("\(output.topic) \(String(decoding: output.body, as: UTF8.self))")
                }
            }
        }
    }
}
