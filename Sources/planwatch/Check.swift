import ArgumentParser
import PlanWatchModel

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a file of events (JSON lines) offline, as the daemon would.",
        discussion: "Prints each rejection with its line number and reason; exits 1 if any line is rejected.")

    @Argument(help: "File of events, one JSON object per line ('-' or none: standard input).")
    var file: String?

    @Option(help: "Largest body accepted, in bytes.")
    var maxBodyBytes = 65_536

    func run() throws {
        let decoder = EventDecoder(maxBodyBytes: maxBodyBytes)
        var rejected = 0
        let lines = try EventLine.read(path: file)
        for line in lines {
            if case .failure(let rejection) = decoder.decode(topic: line.topic, body: line.body) {
                rejected += 1
                print("line \(line.number): \(rejection.reason.rawValue): \(rejection.detail)")
            }
        }
        print("\(lines.count - rejected) valid, \(rejected) rejected")
        if rejected > 0 { throw ExitCode(1) }
    }
}
