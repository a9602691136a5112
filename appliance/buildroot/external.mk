# trowel adds no Buildroot packages of its own: the image is upstream
# packages (see configs/trowel_pxe_x86_64_defconfig), the shared rootfs
# overlay (../../buildroot-overlay) and dist/trowel, copied in by
# board/post-build.sh. Buildroot requires this file to exist.
