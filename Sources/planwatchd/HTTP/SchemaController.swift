import Foundation
import Hummingbird
import PlanWatchModel

/// The JSON Schemas of every inbound payload and outbound body, as shipped beside the
/// executable (`PlanWatch_planwatchd.resources/Schemas`, or the installation's
/// `share/planwatch/Schemas`): `GET /schemas` lists them, `GET /schemas/<name>` serves one. A
/// daemon installed without them answers 404 saying so.
struct SchemaController {
    let directory: String?

    func register(on router: Router<OperatorContext>) {
        let files = HTTPServer.files(in: directory, suffixes: [".schema.json"])
        router.get("/schemas") { _, _ -> Response in
            guard !files.isEmpty else { return HTTPServer.text(.notFound, "no schemas installed beside planwatchd (\(directory ?? "none found"))\n") }
            return HTTPServer.json(.array(files.keys.sorted().map { .string("/schemas/" + $0) }))
        }
        router.get("/schemas/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let body = files[name] else { return HTTPServer.text(.notFound, "no schema \(name); GET /schemas lists them\n") }
            return Response(status: .ok, headers: [.contentType: "application/schema+json"], body: .init(byteBuffer: body))
        }
    }
}
