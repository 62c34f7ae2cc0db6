#!/usr/bin/env python3
"""Writes testdata/images/ from scikit-image's sample data directory (argument 1).

rocket.jpg and truncated.jpg are copied as shipped; the others are derived with
Pillow, deterministically: coffee.jpg (coffee.png re-encoded as JPEG, quality 90),
coffee_alpha.png (coffee.png at 300x200 with a left-to-right alpha ramp, RGBA),
camera_gray.png (camera.png, 8-bit greyscale, as shipped) and rocket_cmyk.jpg
(rocket.jpg converted to CMYK by Pillow and saved as an Adobe CMYK JPEG, quality 92).
Run it through tools/make_test_images.sh.
"""
import pathlib
import shutil
import sys

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "testdata" / "images"


def main(source: pathlib.Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "rocket.jpg", OUT / "rocket.jpg")
    shutil.copyfile(source / "truncated.jpg", OUT / "truncated.jpg")
    shutil.copyfile(source / "camera.png", OUT / "camera_gray.png")
    coffee = Image.open(source / "coffee.png").convert("RGB")
    coffee.save(OUT / "coffee.jpg", quality=90)
    small = coffee.resize((300, 200), Image.BILINEAR)
    alpha = Image.linear_gradient("L").rotate(90).resize((300, 200))
    rgba = small.copy()
    rgba.putalpha(alpha)
    rgba.save(OUT / "coffee_alpha.png")
    Image.open(source / "rocket.jpg").convert("CMYK").save(OUT / "rocket_cmyk.jpg", quality=92)
    for f in sorted(OUT.iterdir()):
        if f.suffix in (".jpg", ".png") and f.name != "truncated.jpg":
            with Image.open(f) as im:
                print(f.name, im.format, im.mode, im.size)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
