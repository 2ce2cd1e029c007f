FROM pitlane/base:bookworm
RUN useradd -m -s /bin/bash meta
LABEL devcontainer.metadata='[{"remoteUser":"meta","remoteEnv":{"FROM_METADATA":"m1","OVERRIDDEN":"metadata"},"postCreateCommand":"mkdir -p /tmp/conformance && echo metadata-postCreate >> /tmp/conformance/markers"},{"containerEnv":{"META_CONTAINER":"yes"},"capAdd":["SYS_PTRACE"]}]'
