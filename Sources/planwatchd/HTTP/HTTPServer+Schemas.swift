import Foundation
import Hummingbird
import PlanWatchModel

extension HTTPServer {
    /// The JSON Schemas of every inbound payload and outbound body, as shipped beside the
    /// executable (`PlanWatch_planwatchd.resources/Schemas`): `GET /schemas/` lists them,
    /// `GET /schemas/<name>` serves one. A daemon installed without them answers 404 saying so.
    static func addSchemaRoutes(to router: Router<OperatorContext>) {
        let directory = schemaDirectory()
        let files: [String: ByteBuffer] = directory.map { dir in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            var files: [String: ByteBuffer] = [:]
            for name in names where name.hasSuffix(".schema.json") {
                if let data = FileManager.default.contents(atPath: dir + "/" + name) { files[name] = ByteBuffer(bytes: Array(data)) }
            }
            return files
        } ?? [:]
        router.get("/schemas") { _, _ -> Response in
            guard !files.isEmpty else { return text(.notFound, "no schemas installed beside planwatchd (\(directory ?? "none found"))\n") }
            return json(JSONWriter.string(.array(files.keys.sorted().map { .string("/schemas/" + $0) })))
        }
        router.get("/schemas/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let body = files[name] else {
                return text(.notFound, "no schema \(name); GET /schemas lists them\n")
            }
            return Response(status: .ok, headers: [.contentType: "application/schema+json"], body: .init(byteBuffer: body))
        }
    }

    /// The schema folder of the resource bundle next to the executable, if present.
    static func schemaDirectory() -> String? {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [
            executable.appendingPathComponent("PlanWatch_planwatchd.resources/Schemas").path,
            executable.appendingPathComponent("../share/planwatch/Schemas").standardized.path,
        ] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }
}
