//! Compiles the `.proto` files with protox, so that no `protoc` binary is needed anywhere.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/auth.proto",
        "proto/chat.proto",
        "proto/presence.proto",
        "proto/events.proto",
        "proto/admin.proto",
        "proto/bot.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        // A bus message is mostly a log batch; boxing the rarer delivery keeps the enum small.
        .boxed(".events.v1.BusMessage.kind.delivery")
        .compile_fds(descriptors)?;
    Ok(())
}
